"""每日一题: quiz questions made from the lectures, their file, polls, points and streaks.

Pure parts (no Telegram): `generation` (questions from a passage), `bank` (the questions file
beside each lecture), `scoring` (points, caps, streaks, ranks); `store` owns the quiz tables.
"""
