"""Writing the questions files: a review choice, an admin's upload, and links that follow an
edited lecture.

The questions file beside each lecture is the only place links live; reading and resolving
it is the core's (bot.core.links). Every write here replaces the file atomically (a reader
sees the old file or the new one, never half of one) and runs under one lock, so a review
choice and a reconciliation after an upload never overwrite each other's lines. File work:
call these through `asyncio.to_thread`.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path

from bot import texts
from bot.core.knowledge import KnowledgeBase
from bot.core.lectures import Lecture
from bot.core.links import (
    LectureLinks,
    anchors_path,
    clean_question,
    link_line,
    links_path,
    orphan_line,
    parse_links,
    passage_texts,
    read_anchors,
    read_lecture_links,
    resolve_links,
)
from bot.publishing.files import atomic_write
from bot.storage.folder import folder_lock

# An uploaded questions file larger than this is refused: 1,000 links take about 40 KB.
MAX_LINKS_FILE_BYTES = 1024 * 1024



class LinksFileError(ValueError):
    """A questions file that cannot be used; the message (Chinese) says why."""


def template(lecture: Lecture) -> str:
    return texts.LINKS_FILE_HEADER.format(title=lecture.title)


def download(folder: Path, lecture: Lecture) -> bytes:
    """The lecture's questions file as an admin downloads it (the header alone if none)."""
    path = links_path(folder, lecture.lecture_id)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return template(lecture).encode("utf-8")


def set_link(folder: Path, lecture: Lecture, question: str, ref: str,
             same_questions: Collection[str], other_lecture_ids: Collection[str]) -> None:
    """Links `question` to `ref` (a passage of `lecture`, or "-") in the lecture's file.

    A line for the same question (`same_questions`: its wordings the index knows as the same
    question) is replaced where it stands, here and in the other lectures' files, so that one
    question never has two answers.
    """
    question = clean_question(question)
    same = {clean_question(q) for q in same_questions} | {question}
    with folder_lock(folder):
        for other in other_lecture_ids:
            if other != lecture.lecture_id:
                _drop_lines(links_path(folder, other), same)
        path = links_path(folder, lecture.lecture_id)
        text = _read(path) or template(lecture)
        lines, replaced = [], False
        for line in text.splitlines():
            if _question_of(line) in same:
                if not replaced:
                    lines.append(link_line(question, ref))
                replaced = True
            else:
                lines.append(line)
        if not replaced:
            lines.append(link_line(question, ref))
        anchor = passage_texts(lecture).get(ref)
        if anchor is not None:
            _write_anchors(folder, lecture.lecture_id,
                           {**read_anchors(folder, lecture.lecture_id), ref: anchor})
        atomic_write(path, _joined(lines))


def replace_links(folder: Path, lecture: Lecture, data: bytes) -> LectureLinks:
    """An admin's questions file replaces the lecture's, atomically; returns it resolved
    (its bad lines are kept in the file, reported, and ignored until fixed)."""
    if len(data) > MAX_LINKS_FILE_BYTES:
        raise LinksFileError(texts.LINKS_FILE_TOO_LARGE.format(
            kilobytes=MAX_LINKS_FILE_BYTES >> 10))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise LinksFileError(texts.LINKS_UNREADABLE) from error
    if "\x00" in text:
        raise LinksFileError(texts.LINKS_UNREADABLE)
    lines, problems = parse_links(text)
    path = links_path(folder, lecture.lecture_id)
    # The admin wrote refs against the lecture as it is now: each ref means today's paragraph.
    resolved = resolve_links(lecture, lines, problems, passage_texts(lecture), path)
    with folder_lock(folder):
        _write_anchors(folder, lecture.lecture_id, resolved.anchors)
        atomic_write(path, _joined(text.splitlines()))
    return resolved


def reconcile(folder: Path, lecture: Lecture,
              previous: Lecture | None = None) -> tuple[LectureLinks | None, bool]:
    """After the lecture changed (or at start-up): refs that followed their paragraph are
    rewritten, links whose paragraph is gone are commented out (kept), and the anchors are
    the lecture's texts. `previous`: the version it replaced, whose texts stand in for anchors
    a hand-written link lacks. Returns the links, and whether the file was rewritten."""
    with folder_lock(folder):
        found = read_lecture_links(folder, lecture, passage_texts(previous))
        if found is None:
            return None, False
        path = links_path(folder, lecture.lecture_id)
        lines = (_read(path) or "").splitlines()
        changed = False
        for link in found.moved:
            lines[link.line_no - 1] = link_line(link.question, link.ref)
            changed = True
        for orphan in found.orphans:
            if not lines[orphan.line_no - 1].lstrip().startswith("#"):
                lines[orphan.line_no - 1] = orphan_line(orphan.question, orphan.ref)
                changed = True
        if found.anchors != read_anchors(folder, lecture.lecture_id):
            _write_anchors(folder, lecture.lecture_id, found.anchors)
        if changed:
            atomic_write(path, _joined(lines))
        return found, changed


def reconcile_all(knowledge: KnowledgeBase,
                  previous: KnowledgeBase | None = None) -> list[LectureLinks]:
    """`reconcile` for every lecture of a freshly loaded knowledge folder; returns the links
    of the files it rewrote (then the knowledge's links are out of date: reload them)."""
    rewritten = []
    for lecture in knowledge.library.lectures:
        if knowledge.links.for_lecture(lecture.lecture_id) is None:
            continue
        before = previous.library.lecture(lecture.lecture_id) if previous else None
        found, changed = reconcile(knowledge.folder, lecture, before)
        if found is not None and changed:
            rewritten.append(found)
    return rewritten


def _question_of(line: str) -> str | None:
    stripped = line.strip()
    if not stripped or stripped.startswith("#") or "\t" not in stripped:
        return None
    return clean_question(stripped.rsplit("\t", 1)[0])


def _drop_lines(path: Path, questions: Collection[str]) -> None:
    text = _read(path)
    if text is None:
        return
    lines = text.splitlines()
    kept = [line for line in lines if _question_of(line) not in questions]
    if len(kept) != len(lines):
        atomic_write(path, _joined(kept))


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as error:
        # Never overwrite a file we cannot read: the admin's lines would be lost.
        raise LinksFileError(texts.LINKS_UNREADABLE) from error


def _write_anchors(folder: Path, lecture_id: str, anchors: dict[str, str]) -> None:
    path = anchors_path(folder, lecture_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(dict(sorted(anchors.items())), ensure_ascii=False,
                                  indent=1).encode("utf-8"))


def _joined(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")
