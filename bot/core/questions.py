"""A member's message → the questions in it.

Members send one short question, or two at once ("三地是啥?还有网民多少"), or, older members
above all, a story of several sentences that ends in a question. Each question is answered on
its own; the story around it is left out of the search, where its words would only pull in
passages about the story. Pure text work: no search, no lecture.
"""

from __future__ import annotations

import re

from bot.core.text import has_word_chars, strip_control

# A message is read up to this length; anything longer is cut, and the reply says so.
MAX_MESSAGE_CHARS = 1000
# One question is searched up to this length: real questions are far shorter.
MAX_QUESTION_CHARS = 300
# At most this many questions of one message are answered, one reply each.
MAX_QUESTIONS = 3
# A question that points back ("那怎么办?", "这种情况算违纪吗?", "为啥?") leans on the
# sentence before it; "三地是啥?" after "老师好!" does not.
_LEANS_BACK = re.compile(
    r"^(那|这|那么|这样|那样|这种|那种|这个|那个|这些|那些|所以|然后|可是|但是|如果这样)"
    r"|^(为啥|为什么|怎么办|咋办|怎么回事|是吗|对吗|真的吗|行吗|可以吗)[?？]?$")

# Sentence ends; a line break ends a sentence too (voice input, pasted text).
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;…\n])")
# Where one question ends and another begins inside a sentence: 另外 / 顺便问下 after a pause
# ("事后追责怎么搞 另外第二部分讲了啥"); 还有 only after a sentence's end, since "网上,还有哪些
# 乱象" is one question.
_QUESTION_BREAK = re.compile(r"(?:^|[\s,，])\s*(?=另外|顺便问一?下|再问一?下)")
# A later question's opening word ("另外…", "还有…") is no part of what it asks.
_LEADING_CONNECTOR = re.compile(r"^\s*(还有|另外|顺便问一?下|再问一?下)[,，、\s]*")
_QUESTION_MARK = re.compile(r"[?？]")
# What makes a sentence a question or a request for information, in Chinese as members type.
# 几 asks (几条, 第几) except in 前几天, 这几年, 好几个, 几乎.
_ASKS = re.compile(
    r"什么|啥|怎么|怎样|咋|如何|为什么|为何|为啥|哪|谁|(?<![前这好十没那])几(?!乎)|多少|多久|"
    r"多大|吗|嘛|么|呢|是否|"
    r"是不是|能不能|能否|可不可以|可以不|有没有|要不要|会不会|算不算|区别|意思|"
    r"请问|想问|问一下|问下|请教|请讲|讲讲|说说|介绍|解释|告诉我|想知道|想了解|求")


def question_parts(message: str) -> list[str]:
    """The questions of a message, in order, at most MAX_QUESTIONS (at least one if it has
    words): each a sentence that asks, with the sentence before it when it points back to
    it. A message with no asking sentence is one question as a whole."""
    # An escape sequence's ";" (ESC[1;4m) would end a sentence.
    text = strip_control(message[:MAX_MESSAGE_CHARS])
    sentences = [s for s in _sentences(text) if has_word_chars(s)]
    asking = [i for i, s in enumerate(sentences) if _asks(s)]
    if not asking:
        return [text.strip()[:MAX_QUESTION_CHARS]] if has_word_chars(text) else []
    parts = []
    for i in asking:
        part = sentences[i]
        if _LEANS_BACK.search(part.strip()) and i > 0 and i - 1 not in asking:
            part = sentences[i - 1] + part
        parts.append(part.strip()[:MAX_QUESTION_CHARS])
    return parts[:MAX_QUESTIONS]


# Thanks, praise and acknowledgements ("谢谢书记 讲得很实在", "👍 学习了"): a message made of
# them that asks nothing is small talk, however it is worded.
_COURTESY = re.compile(
    r"谢谢|感谢|多谢|谢啦|辛苦|好的|收到|明白了|学习了|已学习|学到了|受教|打卡|点赞|"
    r"讲得(真|很|太|非常|特别)?(好|棒|精彩|实在|生动|透彻|清楚)|👍|🙏|💪|赞")


def is_courtesy(message: str) -> bool:
    """Does the message only thank, praise or acknowledge (no sentence of it asks)?"""
    return bool(_COURTESY.search(message)) and not any(_asks(s) for s in _sentences(message))


def _sentences(text: str) -> list[str]:
    sentences = []
    for sentence in _SENTENCE_END.split(text):
        for piece in _QUESTION_BREAK.split(sentence):
            piece = _LEADING_CONNECTOR.sub("", piece)
            if piece.strip():
                sentences.append(piece)
    return sentences


def _asks(sentence: str) -> bool:
    return bool(_QUESTION_MARK.search(sentence) or _ASKS.search(sentence))
