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
from bot.writebehind import WriteBehind

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
    # Question log and member sightings: written after the reply, retried, spilled if need be.
    deferred: WriteBehind

    @classmethod
    async def open(cls, path: Path, replay_pending: bool = False) -> Stores:
        """Opens (creating or migrating) the database and every feature's store on it.

        `replay_pending`: the running bot writes what an earlier run spilled (see
        bot.writebehind); the command-line tools leave it to the bot."""
        database = await Database(path, SCHEMAS).open()
        questions, directory = asking.QuestionLog(database), members.MemberDirectory(database)
        deferred = WriteBehind(spill_path(path), {QUESTION: questions.log_record,
                                                  SIGHTING: directory.saw_record})
        await deferred.start(replay=replay_pending)
        return cls(database, study.StudyStore(database), questions, directory,
                   quiz.QuizStore(database), records.RecordsStore(database),
                   teach.TeachStore(database), deferred)

    async def close(self) -> None:
        await self.deferred.close()
        await self.database.close()


# Kinds of deferred records.
QUESTION, SIGHTING = "question", "sighting"


def spill_path(db_path: Path) -> Path:
    """Where deferred records wait when neither the database nor memory can hold them."""
    return db_path.with_name(db_path.name + ".pending.jsonl")
