"""Every feature's tables in one database: the schemas, and the stores opened on them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.asking import store as asking
from bot.cluster import store as cluster
from bot.config import DEFAULT_DB_PATH
from bot.members import store as members
from bot.quiz import store as quiz
from bot.records import store as records
from bot.storage import Database
from bot.study import store as study
from bot.teach import store as teach
from bot.writebehind import WriteBehind

SCHEMAS = (study.SCHEMA, asking.SCHEMA, members.SCHEMA, quiz.SCHEMA, records.SCHEMA,
           teach.SCHEMA, cluster.SCHEMA)


@dataclass(frozen=True)
class Stores:
    database: Database
    study: study.StudyStore
    questions: asking.QuestionLog
    members: members.MemberDirectory
    quiz: quiz.QuizStore
    records: records.RecordsStore
    teach: teach.TeachStore
    cluster: cluster.ClusterStore
    # Question log and member sightings: written after the reply, retried, spilled if need be.
    deferred: WriteBehind

    @classmethod
    async def open(cls, target: Path | str, replay_pending: bool = False,
                   spill: Path | None = None) -> Stores:
        """Opens (creating or migrating) the database and every feature's store on it.

        `target`: a SQLite file, or a postgresql:// URL. `spill`: this instance's own file
        for deferred records (beside the SQLite file by default). `replay_pending`: the
        running bot writes what an earlier run spilled (see bot.writebehind); the
        command-line tools leave it to the bot."""
        database = await Database(target, SCHEMAS).open()
        if spill is None:
            spill = spill_path(database.path or DEFAULT_DB_PATH)
        questions, directory = asking.QuestionLog(database), members.MemberDirectory(database)
        deferred = WriteBehind(spill, {QUESTION: questions.log_record,
                                                  SIGHTING: directory.saw_record})
        await deferred.start(replay=replay_pending)
        return cls(database, study.StudyStore(database, cluster.instance_identity()),
                   questions, directory,
                   quiz.QuizStore(database), records.RecordsStore(database),
                   teach.TeachStore(database), cluster.ClusterStore(database), deferred)

    async def close(self) -> None:
        await self.deferred.close()
        await self.database.close()


# Kinds of deferred records.
QUESTION, SIGHTING = "question", "sighting"


def spill_path(db_path: Path) -> Path:
    """Where deferred records wait when neither the database nor memory can hold them: a
    local file of this instance (with PostgreSQL, beside BOT_DB_PATH, which is not used)."""
    return db_path.with_name(db_path.name + ".pending.jsonl")
