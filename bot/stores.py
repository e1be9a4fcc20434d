"""Every feature's tables in one database: the schemas, and the stores opened on them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.asking import store as asking
from bot.members import store as members
from bot.quiz import store as quiz
from bot.records import store as records
from bot.storage import Database
from bot.study import store as study
from bot.teach import store as teach

SCHEMAS = (study.SCHEMA, asking.SCHEMA, members.SCHEMA, quiz.SCHEMA, records.SCHEMA,
           teach.SCHEMA)


@dataclass(frozen=True)
class Stores:
    database: Database
    study: study.StudyStore
    questions: asking.QuestionLog
    members: members.MemberDirectory
    quiz: quiz.QuizStore
    records: records.RecordsStore
    teach: teach.TeachStore

    @classmethod
    async def open(cls, path: Path) -> Stores:
        """Opens (creating or migrating) the database and every feature's store on it."""
        database = await Database(path, SCHEMAS).open()
        return cls(database, study.StudyStore(database), asking.QuestionLog(database),
                   members.MemberDirectory(database), quiz.QuizStore(database),
                   records.RecordsStore(database), teach.TeachStore(database))

    async def close(self) -> None:
        await self.database.close()
