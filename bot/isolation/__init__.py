"""One chat's trouble stays in that chat.

Updates of different chats are handled concurrently, each chat's in order (`updates`); a
flood wait Telegram imposes on one chat pauses only that chat's requests (`ratelimit`); costly
requests are capped per chat and per user (`budget`).
"""
