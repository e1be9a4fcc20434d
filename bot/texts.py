"""Every Chinese text users see, in one place, so wording is reviewed and changed here.

Templates use str.format fields. Texts are sent as plain text unless a renderer in
bot.core.render builds HTML from them, and then it escapes every value it fills in.
"""

# Where a reply repeats what the user typed (an unknown lecture name, a /read selector), at
# most this much of it: enough to recognise, and a pasted essay cannot blow up the reply.
MAX_ECHOED_INPUT_CHARS = 50
# A stored question in /stats: one line in a phone's chat bubble.
MAX_LISTED_QUESTION_CHARS = 60


def echoed(text: str) -> str:
    """What a reply may quote back of a user's input."""
    return text[:MAX_ECHOED_INPUT_CHARS]


BOT_NAME = "学习助手"

# Citations and what admins are told about lecture files (previews, /reload, inspect).
CITATION = "《{lecture}》· {section} · 第{paragraph}段"
OPENING_SECTION = "开篇"
FILE_EMPTY = "文件是空的"
FILE_BINARY = "不是文本文件(含二进制内容)"
FILE_ENCODING = "无法识别的文字编码(请用 UTF-8 或 GBK/GB18030 保存)"
FILE_UNREADABLE = "无法读取文件({reason})"
FILE_NO_PARAGRAPHS = "没有找到正文段落"
DOCX_DAMAGED = "Word 文件已损坏或格式不对"
DOCX_NOT_WORD = "不是 Word(.docx)文件"
DOCX_TOO_LARGE = "文件解压后过大"
DOCX_SUSPICIOUS = "文件压缩比异常,已拒绝"
WARNING_DUPLICATE_SECTION = "章节编号重复:{heading}"
WARNING_EMPTY_SECTION = "章节没有正文:{heading}"
# Stored as a failed push's reason and shown in the admins' alert.
PUSH_PASSAGE_TOO_LONG = "这一段连同标题超过一条消息的长度,没有截断发送;请重新上传讲稿,发布时会在句末拆分过长的段落"
WARNING_PASSAGE_SPLIT = "{section} 里有一段太长({chars}字),发布时在句末拆成 {parts} 段,每段一条消息发得下"
WARNING_DUPLICATE_TITLE = "标题与已有讲稿相同({file})"

EXAMPLE_QUESTIONS = (
    "党员网络行为规定是什么时候印发的?",
    "为什么要加强党员网络行为管理?",
    "第三部分讲了什么?",
)

HELP = (
    "我是{bot_name},可以回答关于学习讲稿的问题。\n"
    "直接发问题给我,我会找出讲稿中回答这个问题的原文段落,并注明出处。\n"
    "例如:\n{examples}\n"
    "在群里请用 /ask 加问题,或者 @我 提问。\n"
    "{commands}"
)
HELP_COMMANDS = "/toc 查看目录 · /read 阅读某一节或某一段 · /help 使用说明"

NO_QUESTION = "没有看到问题。请用文字把问题发给我,例如:{example}"
TEXT_ONLY = "请用文字提问。"
UNKNOWN_COMMAND = "没有这个命令。发送 /help 查看怎么用,或者直接把问题发给我。"
QUESTION_TRUNCATED = "(消息太长,只读了前 {limit} 个字。)"
PART_HEADER = "关于“{question}”:"

ANSWER_HEADER = "📖 {citation}"
# The first line of an answer: the sentence that answers, quoted (a fact's words in bold).
ANSWER_LINE = "答:"
SECTION_HEADER = "📚 {section}({count}段)· 先看第1段:"
SEE_ALSO = "另见:"
SEE_ALSO_ITEM = "· {citation}"

NOT_COVERED = "讲稿里没有讲到这个问题,我不能凭空回答。"
CLOSEST_INTRO = "讲稿没有直接回答这个问题,最相关的是这一段:"
NOT_COVERED_TOPICS = "讲稿讲的是:"
NOT_COVERED_CLOSEST = "最接近的段落(不一定回答了你的问题):"
TOC_HINT = "发送 /toc 查看完整目录。"
TOPIC_LECTURE = "《{lecture}》"
TOPIC_ITEM = "  · {section}"
TOPIC_MISSING_SUFFIX = "(原文缺失)"

MISSING_SECTION = (
    "《{lecture}》的原文缺少{sections}:来源网站隐藏了这部分{size},"
    "讲稿里没有这部分的文字,所以我无法回答,也不会编造。"
)
MISSING_SIZE = "(约{chars}字)"
MISSING_SECTION_NAME = "第{numeral}部分"
NO_SUCH_SECTION = "《{lecture}》没有第{numeral}部分。"

NO_LECTURES = "现在还没有可用的讲稿,请联系管理员添加。"

CHAT_WELCOME = "本地对话模式(没有配置 Telegram 令牌)。输入问题并回车,输入 /quit 或按 Ctrl-D 退出。"
CHAT_PROMPT = "问> "
CHAT_BYE = "再见!"

INSPECT_FAILED = "无法读取"
INSPECT_NO_LECTURES = "没有找到讲稿文件(.txt / .md):{folder}"

TOC_TITLE = "📚 目录"
TOC_LECTURE = "《{title}》({count}段)"
TOC_SECTION = "  {label}({count}段)"
TOC_MISSING = "  第{numeral}部分:原文缺失{size}"
TOC_READ_HINT = "发送 /read 加节号或段落阅读原文,例如 /read 3 或 /read 3.2。"

CLI_TOKEN_MISSING = (
    "没有配置 TELEGRAM_BOT_TOKEN,无法启动 Telegram 机器人。"
    " / TELEGRAM_BOT_TOKEN is not set; cannot start the Telegram bot."
)
# The shape of a token @BotFather gives: the bot's id, a colon, 35 letters, digits, _ or -.
TOKEN_EXAMPLE = "123456789:AAHLkcN2WTqyI4bC6dnk-1c3ThAeVwBUVKO"
CLI_TOKEN_INVALID = (
    "TELEGRAM_BOT_TOKEN 格式不对:应为数字、冒号、35 位字母数字(可含 _ 和 -),"
    f"例如 {TOKEN_EXAMPLE}(向 @BotFather 申请)。"
    " / TELEGRAM_BOT_TOKEN is malformed: expected digits, a colon and 35 characters"
    f" (letters, digits, _ or -), e.g. {TOKEN_EXAMPLE}."
)
CLI_BAD_LOG_LEVEL = "BOT_LOG_LEVEL 应为 {levels} 之一,而不是 {value}。 / BOT_LOG_LEVEL must be one of {levels}, not {value}."
CLI_NO_QUESTION = "请给出问题,或用 --questions 文件。 / Give a question or --questions FILE."

# Telegram: command menu (registered at start-up) and buttons.
# The command menus registered with Telegram: members see theirs; chat admins (and everyone
# in a private chat, where members manage their own plan) also the study commands; global
# admins everything.
MEMBER_COMMANDS = (
    ("start", "开始使用"),
    ("help", "使用说明"),
    ("ask", "提问(群里用:/ask 问题)"),
    ("toc", "讲稿目录"),
    ("read", "阅读原文,例如 /read 3.2"),
    ("today", "今天的学习内容"),
    ("plan", "查看学习计划"),
    ("lectures", "讲稿列表"),
)
BOT_DESCRIPTION = "学习助手:回答关于学习讲稿的问题,引用讲稿原文并注明出处。"
BOT_SHORT_DESCRIPTION = "引用讲稿原文回答学习问题"

BUTTON_MORE = "更多"
BUTTON_PREVIOUS = "上一段"
BUTTON_NEXT = "下一段"
BUTTON_FULL_TEXT = "全文"
BUTTON_READ = "阅读:{citation}"
FULL_TEXT_TITLE = "《{title}》全文"
BUTTON_PREVIOUS_PAGE = "上一页"
BUTTON_NEXT_PAGE = "下一页"
PAGE_POSITION = "第 {page}/{pages} 页"
FULL_TEXT_ALREADY_SENT = "全文刚刚发过了,请在那条消息里点“下一页”翻看。"
TOO_MANY_REQUESTS = "本群刚刚打开了好几篇全文,请稍后再试。"
BUTTON_LIKE = "👍"
BUTTON_DISLIKE = "👎"
FEEDBACK_THANKS = "谢谢反馈!"
NO_MORE_RESULTS = "没有更多相关段落了。"
PASSAGE_GONE = "这段讲稿已经不在了(可能已更新或下架),请重新提问。"
BUTTON_EXPIRED = "这个按钮已失效,请重新提问。"

ASK_USAGE = "请在 /ask 后面写上问题,例如:/ask {example}"
READ_USAGE = "用法:/read 节号 或 /read 节号.段号,例如 /read 3 或 /read 3.2;有多篇讲稿时在前面加讲稿名,例如 /read 党课 3.2。发送 /toc 查看目录。"
READ_NOT_FOUND = "没有找到“{selector}”。发送 /toc 查看有哪些节和段。"
READ_WITHHELD_NOTE = "({sections}原文缺失)"
READ_WITHHELD = "《{lecture}》的{section}原文缺失:来源网站隐藏了这部分{size},讲稿里没有这部分的文字。可以阅读的部分:\n{sections}"
READ_WITHHELD_ITEM = "· {label}:/read {number}"
READ_POSITION = "第 {position}/{total} 段"
ANSWER_FAILED = "抱歉,这次回答失败了,请稍后再试。"
# A command that must write when the database refuses: nothing was changed.
DATABASE_BUSY = "数据库正忙(有其他程序正在写入),这次操作没有完成,请稍后再试。"
DATABASE_FULL = "数据库已满或磁盘空间不足,这次操作没有完成。请稍后再试,并请管理员检查磁盘空间。"
DATABASE_DISK_ERROR = "数据库写入磁盘出错(磁盘可能已满或损坏),这次操作没有完成。请稍后再试,并请管理员检查。"

INLINE_NO_RESULT = "讲稿里没有找到相关段落"
INLINE_TYPE_QUESTION = "输入问题,查找讲稿原文"
CHAT_BUTTONS_HINT = "(Telegram 里的按钮在这里对应命令:{commands})"
CHAT_BUTTON_PREVIOUS = "上一段 /read {selector}"
CHAT_BUTTON_NEXT = "下一段 /read {selector}"

# Daily study.
CHAT_ADMIN_COMMANDS = (
    ("subscribe", "开始每日学习"),
    ("schedule", "设置推送时间,例如 /schedule 08:00 工作日"),
    ("push", "立即推送下一段"),
    ("stats", "学习统计"),
    ("unsubscribe", "停止每日学习"),
)
NOT_ALLOWED = "抱歉,只有本群管理员可以这样操作。"
NO_PLAN = "这个聊天还没有开始每日学习。管理员可以发送 /subscribe 开始。"
SUBSCRIBED = "已开始每日学习《{lecture}》:{days} {time} 推送,共 {total} 段。\n用 /schedule 修改时间,/push 立即推送下一段。"
ALREADY_SUBSCRIBED = "这个聊天已经在学习《{lecture}》了。发送 /plan 查看计划,/plan 讲稿名 切换讲稿。"
UNSUBSCRIBED = "已停止每日学习。学习进度已保存,发送 /subscribe 可以继续。"
SCHEDULE_USAGE = "用法:/schedule 时:分 [工作日|每天],例如 /schedule 08:00 或 /schedule 20:30 工作日。"
SCHEDULE_SET = "好的,以后{days} {time} 推送。"
SCHEDULE_TOMORROW = "(今天的推送时间已过,从下一个学习日开始。)"
DAYS_EVERY_DAY = "每天"
DAYS_WORKDAYS = "工作日"
DAYS_CUSTOM = "每周{days}"
WEEKDAY_NAMES = "日一二三四五六"
LECTURE_UNKNOWN = "没有找到讲稿“{name}”。现有讲稿:\n{lectures}"
LECTURE_AMBIGUOUS = "“{name}”对应多篇讲稿,请写得更具体一些:\n{lectures}"
LECTURE_ITEM = "· 《{title}》({file})"
PLAN_SUMMARY = (
    "📅 学习计划:《{lecture}》\n"
    "推送时间:{days} {time}({timezone}){state}\n"
    "进度:已推送 {done}/{total} 段\n"
    "{next}"
)
PLAN_PAUSED = ",已暂停"
PLAN_NEXT = "下一段:{citation}"
PLAN_DONE = "本讲稿已全部学完。"
PLAN_SWITCHED = "已切换到《{lecture}》,从第一段开始。"
PUSH_TITLE = "📖 今日学习"
PUSH_HEADER = PUSH_TITLE + " · 第{number}/{total}段\n{citation}"
PUSH_MANUAL_NOTE = "(这是额外推送,不影响每天的定时推送。)"
LECTURE_FINISHED = "《{lecture}》已经全部推送完毕。管理员请选择:重新开始,还是停止每日学习?"
BUTTON_CHECK_IN = "✅ 已学习 ({count})"
BUTTON_RESTART = "重新开始"
BUTTON_STOP = "停止"
CHECKED_IN = "已记录,谢谢学习!"
ALREADY_CHECKED_IN = "你已经打过卡了。"
# A ✅ press the bot does not count: the button was not on that push's message in this chat,
# or the presser may not study there (not a member of the group, not the reminder's reader).
CHECK_IN_REFUSED = "这个打卡按钮不属于这里,未记录。"
# A button that manages a chat's push (立即发送) pressed outside the presser's private chat.
BUTTON_NOT_HERE = "这个按钮只能在收到它的私聊里使用。"
RESTARTED = "好的,《{lecture}》从第一段重新开始。"
STOPPED = "好的,已停止每日学习。"
NOTHING_PUSHED = "还没有推送过学习内容。"
NOTHING_TO_PUSH = "《{lecture}》已经全部推送完毕。"
STATS = (
    "📊 学习统计\n"
    "今天打卡:{today} 人次\n"
    "本周打卡:{week} 人次({members} 人)\n"
    "回答反馈:👍 {likes} · 👎 {dislikes}\n"
    "\n常问问题:\n{top}\n"
    "\n讲稿没能回答的问题:\n{unanswered}"
)
STATS_ITEM = "· {text}({count}次)"
STATS_NONE = "· 暂无"

# Lecture management.
GLOBAL_ADMIN_COMMANDS = (
    ("retire", "下架讲稿"),
    ("reload", "重新加载讲稿目录"),
)
ONLY_GLOBAL_ADMINS = "抱歉,只有机器人管理员可以管理讲稿。"
UPLOAD_REFUSED = "无法使用这个文件:{reason}。"
UPLOAD_PREVIEW = "📄 预览:《{title}》\n文件:{file}{replaces}\n段落:{count} 段\n章节:\n{sections}"
UPLOAD_REPLACES = "(将替换同名的现有讲稿)"
UPLOAD_GAPS = "缺失部分:\n{gaps}"
UPLOAD_GAP_ITEM = "· {where}约{chars}字"
UPLOAD_WARNINGS = "⚠️ 注意:\n{warnings}"
UPLOAD_ASK = "确认发布吗?"
BUTTON_PUBLISH = "发布"
BUTTON_CANCEL = "取消"
UPLOAD_CANCELLED = "已取消,没有发布。"
UPLOAD_DOWNLOAD_FAILED = "下载失败,请重新发送"
UPLOAD_WRONG_KIND = "只接受 .docx、.txt 或 .md 文件"
# An upload whose file name is too long to store (limits in characters: Chinese, rare ones).
UPLOAD_NAME_TOO_LONG = "文件名太长(中文最多约 {limit} 个字,生僻字最多约 {rare} 个),请改短文件名后重新发送"
UPLOAD_TOO_LARGE = "文件太大(上限 {megabytes} MB)"
UPLOAD_EXPIRED = "这个上传已失效,请重新发送文件"
UPLOAD_STEM_TAKEN = "讲稿目录里已有同名讲稿 {existing}:要替换它,请用完全相同的文件名(含扩展名);否则请换一个文件名"
PUBLISHING = "正在发布《{title}》并重建索引……"
PUBLISHED = "✅ 已发布《{title}》({count}段),现在可以提问了。"
RELOADED = "✅ 已重新加载:{lectures} 篇讲稿,{passages} 段。"
RELOAD_FAILED = "⚠️ 以下文件无法读取,继续使用之前的讲稿:\n{failures}"
RELOAD_FAILURE_ITEM = "· {file}:{reason}"
LECTURE_LIST_TITLE = "📚 讲稿列表"
LECTURE_LIST_ITEM = "· 《{title}》{count}段({file})"
RETIRE_USAGE = "用法:/retire 讲稿名(标题或文件名的一部分)。发送 /lectures 查看讲稿列表。"
RETIRED = "已下架《{title}》,以下文件已移到 retired 文件夹(没有删除):{files}。"
RETIRED_PLANS = "用这篇讲稿学习的 {count} 个聊天已暂停每日推送,并已请管理员选择另一篇讲稿。"
PLAN_LECTURE_RETIRED = "⚠️ 学习计划用的讲稿(文件 {file})已下架,每日推送已暂停。请管理员点下面的按钮选择另一篇讲稿继续(也可以发送 /plan 讲稿名)。"
BUTTON_CHOOSE_LECTURE = "改学《{title}》"
PLAN_LECTURE_GONE = "⚠️ 学习计划用的讲稿(文件 {file})已下架,每日推送已暂停。管理员可以用 /plan 讲稿名 换一篇讲稿继续。"
PLAN_PASSAGE_MOVED = "⚠️ 讲稿内容有更新:上次推送的段落已不在讲稿中,已接着推送后面的段落。"


TIMEZONE_NAMES = {"Asia/Shanghai": "北京时间", "Asia/Chongqing": "北京时间",
                  "Asia/Hong_Kong": "香港时间", "Asia/Macau": "澳门时间", "Asia/Taipei": "台北时间"}


def timezone_name(zone: str) -> str:
    """北京时间 for Asia/Shanghai; other zones by their IANA name."""
    return TIMEZONE_NAMES.get(zone, zone)


def all_commands() -> tuple[tuple[str, str], ...]:
    """Every command, in the order a global admin sees them."""
    return (MEMBER_COMMANDS + CHAT_ADMIN_COMMANDS + TEACH_CHAT_ADMIN_COMMANDS
            + GLOBAL_ADMIN_COMMANDS + TEACH_GLOBAL_ADMIN_COMMANDS)


# ---------------------------------------------------------------------------------------------
# 每日一题 (bot/quiz, bot/handlers/quiz.py): quiz polls, points, streaks, the weekly board.
# ---------------------------------------------------------------------------------------------
QUIZ_FILL_STEM = "根据讲稿填空:\n{sentence}"
QUIZ_TRUE_FALSE_STEM = "判断对错:\n{statement}"
QUIZ_TRUE = "正确"
QUIZ_FALSE = "错误"
QUIZ_EXPLANATION = "原文:{sentence}\n—— {citation}"
# The questions file (<讲稿文件名>.quiz.tsv): what admins are told about lines that cannot be used.
QUIZ_LINE_PROBLEM = "{file} 第{line}行:{reason}"
QUIZ_LINE_FIELDS = "有 {count} 列,应为 {expected} 列(用 Tab 分隔)"
QUIZ_LINE_NO_PASSAGE = "缺少段落编号"
QUIZ_LINE_NO_QUESTION = "缺少题目"
QUIZ_LINE_TOO_LONG = "{what}超过 {limit} 字(Telegram 的上限)"
QUIZ_LINE_OPTION_COUNT = "选项应为 {low}~{high} 个(用 | 分隔)"
QUIZ_LINE_EMPTY_OPTION = "有空选项"
QUIZ_LINE_SAME_OPTIONS = "有重复的选项"
QUIZ_LINE_ANSWER = "正确选项“{answer}”不在选项里"
QUIZ_LINE_SOURCE = "来源“{source}”应为 auto、manual 或 dropped"
QUIZ_FILE_UNREADABLE = "题库文件无法读取({reason})"
QUIZ_FILE_NOT_WRITTEN = "{file} 无法写入({reason}),本次使用内存中的题目"
QUIZ_UNKNOWN_PASSAGE = "{file}:段落 {passage} 不在讲稿里,这一题暂不出题"
# Commands. The menus above gain the quiz's commands here, so that this feature's texts stay
# in this one section.
QUIZ_MEMBER_COMMANDS = (
    ("quiz", "每日一题练习(私聊)"),
    ("me", "我的积分、连续学习天数和排名"),
    ("rank", "本群本周积分榜"),
)
QUIZ_ADMIN_COMMANDS = (
    ("quiztime", "设置每日一题时间,例如 /quiztime 20:00"),
)
MEMBER_COMMANDS += QUIZ_MEMBER_COMMANDS
CHAT_ADMIN_COMMANDS += QUIZ_ADMIN_COMMANDS
# Replies.
QUIZ_NONE = "现在还没有可用的题目。"
QUIZ_NONE_FOR_LECTURE = "《{lecture}》还没有可用的题目。"
QUIZ_PRIVATE_ONLY = "想多练几题?请私聊我发送 /quiz。群里的每日一题会随每日学习推送。"
QUIZ_ME = (
    "🏅 我的学习积分(本群)\n"
    "本周积分:{week} 分{rank}\n"
    "累计积分:{total} 分\n"
    "连续学习:{streak} 天\n"
    "答对每日一题 +{answer_points} 分,点“✅ 已学习” +{study_points} 分,每天最多 {cap} 分。"
)
QUIZ_ME_RANK = "(第 {rank} 名)"
QUIZ_ME_NO_RANK = "(本周还没有上榜)"
QUIZ_RANK_TITLE = "🏆 本周积分榜(前 {size} 名)"
QUIZ_RANK_ITEM = "{rank}. {name} · {points} 分"
QUIZ_RANK_EMPTY = "本周还没有人得分。答对每日一题、点“✅ 已学习”都能得分。"
QUIZ_RANK_MINE = "你:第 {rank} 名 · {points} 分"
QUIZ_RANK_NOT_MINE = "你本周还没有积分。"
QUIZTIME_USAGE = (
    "用法:/quiztime 时:分 —— 每天这个时间发当天学习内容的每日一题,例如 /quiztime 20:00;\n"
    "/quiztime 随推送 —— 和每日学习推送一起发(默认);\n"
    "/quiztime 关闭 —— 不发每日一题。"
)
QUIZTIME_CURRENT = "本聊天的每日一题:{setting}。"
QUIZTIME_WITH_PUSH = "随每日学习推送一起发"
QUIZTIME_AT = "每天 {time}(发当天推送内容的题)"
QUIZTIME_OFF = "已关闭"
QUIZTIME_SET = "好的,每日一题:{setting}。"
QUIZTIME_WORDS_WITH_PUSH = ("随推送", "推送", "默认", "push")
QUIZTIME_WORDS_OFF = ("关闭", "关", "停止", "off")
QUIZ_PREVIEW_TITLE = "📝 《{lecture}》题库 · 第 {page}/{pages} 页(共 {count} 题,已删除 {dropped} 题)\n文件:{file}"
QUIZ_PREVIEW_ITEM = "{number}. {question}\n{options}"
QUIZ_PREVIEW_OPTION = "   {mark} {option}"
QUIZ_PREVIEW_PROBLEMS = "⚠️ 题库文件有问题:\n{problems}"
QUIZ_PREVIEW_EMPTY = "《{lecture}》的题库是空的。"
BUTTON_QUIZ_DROP = "删除第{number}题"
BUTTON_QUIZ_PREVIOUS = "上一页"
BUTTON_QUIZ_NEXT = "下一页"
QUIZ_DROPPED = "已删除这道题,以后不再出。要恢复,把题库文件里这一行的 dropped 改回 auto,再发送 /reload。"
QUIZ_DROP_GONE = "这道题已经不在题库里了。"
CLI_QUIZ_NO_LECTURE = "没有找到讲稿“{name}”(或有多篇同名),请写得更具体些。 / No single lecture matches {name!r}."


# --- Records (学习台账): /export, /roster, /absent, /remind, /stats, /myname -------------
RECORDS_MEMBER_COMMANDS = (
    ("myname", "设置你在台账里的名字,例如 /myname 张三"),
    ("remind", "私聊发送 /remind off 关闭学习提醒,/remind on 重新打开"),
)
RECORDS_ADMIN_COMMANDS = (
    ("export", "导出学习台账(Excel),例如 /export 2026-11"),
    ("roster", "导入名单(发送 .xlsx 或 .tsv 文件时写 /roster)"),
    ("absent", "登记未学原因,例如 /absent 张三 出差"),
)
# Workbook: file, sheets, headers, marks.
RECORDS_FILE_NAME = "学习台账-{title}-{month}.xlsx"
RECORDS_SHEET_TITLE = "{sheet} · {title} · {year}年{month}月"
RECORDS_ROSTER_LINE = "名单 {count} 人"
RECORDS_MEMBER_COUNT = ";Telegram 群成员 {count} 人(含机器人;多出的人还不在名单上)"
RECORDS_SHEET_DAYS = "学习记录"
RECORDS_SHEET_SIGN_IN = "签到表"
RECORDS_SHEET_ABSENT = "未学名单"
RECORDS_SHEET_QUESTIONS = "提问记录"
RECORDS_DAY_HEADERS = ("日期", "学习内容", "当天学习", "补学", "名单人数", "学习率")
RECORDS_QUIZ_HEADERS = ("答题人数", "答对人数")
RECORDS_QUESTIONS_HEADER = "提问数"
RECORDS_NAME_HEADER = "姓名"
RECORDS_PERSON_TOTAL_HEADERS = ("当天学习", "补学", "未学")
RECORDS_DAY_TOTAL_STUDIED = "当天学习人数"
RECORDS_DAY_TOTAL_MADE_UP = "补学人数"
RECORDS_ABSENT_HEADERS = ("日期", "姓名", "情况", "原因")
RECORDS_QUESTION_HEADERS = ("时间", "提问人", "问题", "讲稿是否回答")
RECORDS_MARK_STUDIED = "✓"
RECORDS_MARK_MADE_UP = "补 {date}"
RECORDS_STATE_ABSENT = "未学"
RECORDS_STATE_MADE_UP = "{date} 补学"
RECORDS_ANSWERED = "已回答"
RECORDS_NOT_ANSWERED = "讲稿未涉及"
# Chart.
RECORDS_CHART_TITLE = "{title} · {year}年{month}月 每日学习情况"
RECORDS_CHART_RATE = "当天学习率"
RECORDS_CHART_QUIZ = "每日一题正确率"
RECORDS_CHART_EMPTY = "本月还没有推送"
# /export.
RECORDS_EXPORT_USAGE = "用法:在群里发送 /export 或 /export 2026-11;私聊时写上群名或群号,例如 /export 学习小组 2026-11。"
RECORDS_BAD_MONTH = "“{text}”不是有效的月份,请写成 2026-11 这样的格式。"
RECORDS_EXPORT_CAPTION = "📒 {title} · {month} 学习台账:{days} 个学习日,名单 {count} 人。"
RECORDS_EXPORT_FAILED = "抱歉,台账没能发出,请稍后再试。"
RECORDS_NO_GROUPS = "没有找到你管理的群。请在群里发送 /export,或先让机器人加入群并在群里互动。"
RECORDS_WHICH_GROUP = "你管理多个群,请写上群名或群号,例如 /export {example}:\n{groups}"
RECORDS_GROUP_ITEM = "· {title}({chat_id})"
RECORDS_UNKNOWN_GROUP = "没有找到你管理的群“{name}”。你管理的群:\n{groups}"
# /roster.
RECORDS_ROSTER_USAGE = "导入名单:把名单文件(.xlsx 或 .tsv,每行一人:姓名,可选 @用户名)发到群里,说明文字写 /roster。不带文件发送 /roster 查看当前名单。"
RECORDS_ROSTER_SHOW = "👥 名单 {count} 人{member_count}:\n{names}"
RECORDS_ROSTER_MEMBER_COUNT = "(Telegram 群成员 {count} 人,含机器人)"
RECORDS_ROSTER_UNMATCHED = "(未互动)"
RECORDS_ROSTER_IMPORTED = "✅ 已导入名单 {count} 人,其中 {matched} 人已对应到群成员。未对应的人在他们与机器人互动后自动对应(按 @用户名或名字)。"
RECORDS_ROSTER_EMPTY = "名单文件里没有找到名字。每行一人:第一列姓名,第二列可选 @用户名。"
RECORDS_ROSTER_BAD_FILE = "无法读取名单文件:{reason}。"
RECORDS_ROSTER_WRONG_KIND = "只接受 .xlsx、.tsv、.csv 或 .txt 名单文件"
RECORDS_ROSTER_TOO_LARGE = "文件太大(上限 {kilobytes} KB)"
RECORDS_ROSTER_TOO_MANY = "名单太长(上限 {limit} 人)"
RECORDS_ROSTER_DAMAGED = "Excel 文件已损坏或格式不对"
# csv could not read the text: one cell longer than its limit (characters), or broken quoting.
RECORDS_ROSTER_BAD_TEXT = "文件里有一格内容过长(超过 {limit} 个字符)或引号不成对,请检查后重新发送"
RECORDS_ROSTER_ENCODING = "无法识别的文字编码(请用 UTF-8 或 GBK 保存)"
RECORDS_IN_GROUP_ONLY = "请在群里使用这个命令。"
# /absent.
RECORDS_ABSENT_USAGE = "用法:/absent 姓名 原因,例如 /absent 张三 出差;补登以前的日期:/absent 11-26 张三 病假。"
RECORDS_ABSENT_UNKNOWN = "名单里没有“{name}”。发送 /roster 查看名单。"
RECORDS_ABSENT_NOTED = "已登记:{name} {date} 未学,原因:{reason}。"
RECORDS_ABSENT_STUDIED = "{name} {date} 已经学习过了,不需要登记原因。"
# /remind.
RECORDS_REMIND_USAGE = "用法:管理员在群里发送 /remind 20:00 设置每天提醒的时间,/remind off 关闭本群提醒;成员私聊发送 /remind off 不再接收提醒,/remind on 重新接收。"
RECORDS_REMIND_SET = "好的,每天 {time} 私聊提醒还没学习的成员(需要成员先私聊过机器人)。"
RECORDS_REMIND_GROUP_OFF = "已关闭本群的学习提醒。"
RECORDS_REMIND_SHOW = "本群每天 {time} 提醒还没学习的成员。"
RECORDS_REMIND_NONE = "本群还没有设置学习提醒。"
RECORDS_REMIND_MEMBER_OFF = "好的,以后不再私聊提醒你学习。发送 /remind on 可以重新打开。"
RECORDS_REMIND_MEMBER_ON = "好的,以后会在群里设置的时间提醒你学习。"
RECORDS_REMINDER = "⏰ 学习提醒 · {group}\n你今天还没有学习,今天的内容是:"
RECORDS_REMINDER_FOOTER = "(不想收到提醒?发送 /remind off)"
# /stats.
RECORDS_STATS_TODAY = "\n\n今天({date})已学习 {count} 人:{names}\n还没学习 {missing} 人:{missing_names}"
RECORDS_STATS_NO_PUSH_TODAY = "\n\n今天还没有推送学习内容。"
RECORDS_STATS_ROSTER = "\n名单 {count} 人{member_count}"
RECORDS_NAMES_NONE = "无"
RECORDS_NAMES_MORE = "等 {count} 人"
RECORDS_CHART_CAPTION = "📈 {month} 每日学习率"
# /myname.
RECORDS_MYNAME_USAGE = "用法:/myname 张三(设置你在学习台账里的名字,在你所在的各个群都生效)。"
RECORDS_MYNAME_SET = "好的,你在台账里的名字是:{name}"
# /myname with a roster name: someone else's is refused; a free one waits for an admin (a
# message with buttons in the group), unless the roster's @username is the member's.
RECORDS_MYNAME_TAKEN = "名单上的“{name}”已经对应了另一位成员,不能使用。如有错误,请联系群管理员。"
RECORDS_MYNAME_PENDING = "“{name}”在名单上,需要群管理员确认后才会对应到你。已在群里提交申请,请等待确认。"
RECORDS_MYNAME_LINKED = "好的,名单上的“{name}”(@用户名一致)已对应到你。"
RECORDS_CLAIM_ASK = "📝 {member} 申请认领名单上的名字“{name}”。请群管理员确认:"
BUTTON_CLAIM_CONFIRM = "✅ 确认"
BUTTON_CLAIM_REFUSE = "❌ 拒绝"
RECORDS_CLAIM_CONFIRMED = "✅ 已确认:{member} 是名单上的“{name}”(管理员确认)。"
RECORDS_CLAIM_REFUSED = "❌ 已拒绝:{member} 认领“{name}”的申请。"
RECORDS_CLAIM_SETTLED = "这个申请已经处理过了,或名字已对应到别人。"
RECORDS_CLAIM_ONLY_ADMINS = "只有本群管理员可以确认认领。"
# lecture-bot export (the command line).
CLI_NO_DATABASE = "找不到数据库 {path}(请设置 BOT_DB_PATH) / no database at {path} (set BOT_DB_PATH)"
CLI_UNKNOWN_CHAT = "数据库 {path} 里没有聊天 {chat} 的任何记录(机器人没在这个聊天里用过?请检查 --chat) / no records of chat {chat} in {path}"
CLI_DATABASE_UNUSABLE = "无法读取数据库 {path}:{error} / cannot read the database {path}: {error}"
CLI_NO_KNOWLEDGE = "讲稿目录不存在:{path}(请检查 --knowledge 或 BOT_KNOWLEDGE_DIR) / no knowledge folder at {path}"
# The database at start-up (one line for whoever starts the bot) and its marker file's text.
DB_MISSING = "数据库 {path} 不见了,但它以前存在过(标记文件 {marker} 还在):请恢复数据库或改正 BOT_DB_PATH;确要从空数据库开始,删除标记文件后再启动 / the database {path} is missing but existed before; restore it or fix BOT_DB_PATH (delete {marker} to start empty)"
DB_READ_ONLY = "数据库 {path} 是只读的,机器人无法写入:请检查文件和目录的权限 / the database {path} is read-only"
DB_DAMAGED = "数据库 {path} 已损坏({error}):请从备份恢复 / the database {path} is damaged: {error}"
DB_UNUSABLE = "无法打开数据库 {path}:{error} / cannot open the database {path}: {error}"
DB_NO_DRIVER = "BOT_DATABASE_URL 指向 PostgreSQL,但没有安装驱动:请运行 pip install 'lecture-bot[postgres]' / PostgreSQL needs the postgres extra: pip install 'lecture-bot[postgres]'"
DB_MARKER_NOTE = "lecture-bot: the database beside this file exists. If it goes missing, the bot refuses to start rather than begin empty; delete this file to accept an empty start.\n"
CLI_EXPORTED = "已写入 {path} / written: {path}"
# lecture-bot migrate (the command line): one line each, Chinese first.
MIGRATE_NO_SOURCE = "找不到要复制的 SQLite 数据库 {path}(请检查 --from 或 BOT_DB_PATH) / no SQLite database at {path} (check --from or BOT_DB_PATH)"
MIGRATE_NO_TARGET = "请用 --to 或 BOT_DATABASE_URL 指定目标 PostgreSQL 数据库(postgresql://…) / give the PostgreSQL target with --to or BOT_DATABASE_URL"
MIGRATE_TARGET_NOT_POSTGRES = "目标必须是 postgresql:// 开头的 PostgreSQL 数据库地址,而不是 {target} / the target must be a postgresql:// URL, not {target}"
MIGRATE_SOURCE_NEWER = "数据库 {path} 来自更新版本的机器人({schemas}),请先升级本程序再复制 / {path} was written by a newer version ({schemas}); upgrade before copying"
MIGRATE_TARGET_NOT_EMPTY = "目标数据库 {target} 不是空的(有数据的表:{tables}),没有复制任何数据:只能复制到空数据库 / the target {target} is not empty ({tables}); nothing was copied"
MIGRATE_TABLE_MISSING = "目标数据库 {target} 缺少表 {table},没有复制任何数据 / the target {target} has no table {table}; nothing was copied"
MIGRATE_COLUMNS_MISSING = "目标数据库 {target} 的表 {table} 缺少列 {columns},没有复制任何数据 / the target's table {table} lacks {columns}; nothing was copied"
MIGRATE_MISMATCH = "表 {table} 的行数不一致(源 {source} 行,目标 {target} 行),已全部回滚,目标数据库仍是空的 / table {table}: {source} rows read but {target} on the target; rolled back"
MIGRATE_FAILED = "复制失败,已全部回滚,目标数据库仍是空的:{error} / the copy failed and was rolled back: {error}"
MIGRATE_COUNTS_HEADER = "表 / table"
MIGRATE_DONE = "已复制 {tables} 张表、共 {rows} 行到 {target},各表行数一致 / copied {tables} tables, {rows} rows to {target}; every count matches"
# The records commands join the menus here, so this section stays in one place.
MEMBER_COMMANDS = MEMBER_COMMANDS + RECORDS_MEMBER_COMMANDS
CHAT_ADMIN_COMMANDS = CHAT_ADMIN_COMMANDS + RECORDS_ADMIN_COMMANDS
# ---------------------------------------------------------------------------------------------
# Teaching the bot (issue 11): the review queue, question links, regression checks.
# ---------------------------------------------------------------------------------------------
# /review is for group admins (their group's questions) and bot admins (every chat's);
# /questions for bot admins, since a lecture's links are shared by every chat.
TEACH_CHAT_ADMIN_COMMANDS = (
    ("review", "审核机器人没答好的问题"),
)
TEACH_GLOBAL_ADMIN_COMMANDS = (
    ("questions", "下载讲稿的问题链接文件,例如 /questions 讲稿名"),
)

# The questions file (<讲稿文件名>.questions.tsv): its header and what is wrong with a line.
LINKS_FILE_HEADER = (
    "# 《{title}》的问题链接:每行一条,格式为“问题<Tab>段落号”。\n"
    "# 段落号是 /read 用的编号,例如 3.2(第3部分第2段)、0.1(开篇第1段);写“-”表示讲稿没讲这个问题,机器人会如实说明。\n"
    "# 以 # 开头的行是注释。“#段落已删除”开头的行是讲稿修改后找不到段落的链接,请改好段落号后去掉这个标记。\n"
)
LINKS_ORPHAN_MARK = "#段落已删除"
LINKS_NO_TAB = "没有 Tab:问题和段落号之间要用一个 Tab 分隔"
LINKS_EMPTY_QUESTION = "问题是空的"
LINKS_BAD_REF = "段落号“{ref}”格式不对(应为 3.2 这样的编号,或 -)"
LINKS_UNKNOWN_REF = "讲稿中没有第 {ref} 段"
LINKS_UNREADABLE = "文件读不了(请用 UTF-8 编码保存)"
LINKS_CONFLICT = "与第 {line} 行是同一个问题,却链接到不同的段落"
LINKS_CONFLICT_ELSEWHERE = "与 {file} 第 {line} 行是同一个问题,却链接到不同的段落"
LINKS_ORPHANED = "讲稿修改后找不到这个链接的段落(原段落号 {ref})"
LINKS_FILE_TOO_LARGE = "文件太大(上限 {kilobytes} KB)"
LINKS_WRITE_FAILED = "问题链接文件写不进去(磁盘已满或没有权限,详见日志)"

# Every link is a test: `lecture-bot check` and the upload preview.
CHECK_SUMMARY = "《{title}》({file}):回归测试 {passed}/{total} 通过"
CHECK_FAILURE = "第 {line} 行“{question}”:应为 {expected};实际:{got}"
CHECK_PROBLEM = "第 {line} 行“{question}”:{problem}"
CHECK_REFUSED = "讲稿没讲(拒答)"
CHECK_MOVED = "{count} 条链接随段落移到了新的段落号。"
CHECK_WITHOUT_LINKS = "不用链接时,机器人自己答对 {right}/{total} 个链接的问题(仅供参考)"
CHECK_NO_LINKS = "讲稿目录里还没有问题链接文件(讲稿文件名.questions.tsv)。"
PREVIEW_REGRESSION = "🧪 回归测试 {passed}/{total} 通过"
PREVIEW_MORE_FAILURES = "……还有 {count} 条没有通过,用 lecture-bot check 查看全部"
PREVIEW_CONFIRM = "⚠️ 回归测试有 {failed} 条没有通过:发布后这些问题会答得和链接不一样,找不到段落的链接会在问题文件中注释保留。确定仍要发布吗?"
BUTTON_PUBLISH_ANYWAY = "仍然发布"

# The review queue (/review).
# A review button pressed outside the chat its review belongs to (a group's review lives in
# that group; a bot admin's or "my groups" review in the reviewer's private chat).
REVIEW_NOT_HERE = "这个审核按钮不属于这里,请在发起 /review 的聊天里操作。"
REVIEW_NOT_ALLOWED = "抱歉,只有机器人管理员和群管理员可以审核问题。群管理员请在自己的群里发送 /review。"
REVIEW_EMPTY = "✅ 没有待审核的问题。"
REVIEW_ITEM = "🔎 待审核问题(还有 {remaining} 个)\n\n问题:“{question}”\n聊天:{chat}\n{kinds}{people}\n\n{candidates}"
REVIEW_PEOPLE = "\n{count} 人问过类似的问题"
REVIEW_KIND_NOT_COVERED = "机器人回答了“讲稿没讲到”"
REVIEW_KIND_CLOSEST = "机器人只给出了最接近的段落"
REVIEW_KIND_DISLIKED = "成员对回答点了 👎"
REVIEW_CANDIDATES = "候选段落:\n{candidates}"
REVIEW_CANDIDATE = "{number}. {citation}\n{preview}"
REVIEW_NO_CANDIDATES = "没有候选段落:可以选“讲稿没讲”,或“跳过”。"
REVIEW_PRIVATE_CHAT = "私聊"
REVIEW_GROUP_CHAT = "群“{title}”"
REVIEW_UNKNOWN_CHAT = "群 {chat_id}"
REVIEW_MORE_CHATS = "等 {count} 个聊天"
REVIEW_READING = "候选段落 {number}(问题:“{question}”)"
REVIEW_LINKED = "✅ 已记下:“{question}” → {citation}"
REVIEW_MARKED_NOT_COVERED = "✅ 已记下:“{question}” 讲稿没讲,以后会直接说明。"
# A group admin's choice: it answers in that group only, until a bot admin adopts it.
REVIEW_LINKED_GROUP = "✅ 已记下:“{question}” → {citation}(只在本群生效)"
REVIEW_MARKED_NOT_COVERED_GROUP = "✅ 已记下:“{question}” 讲稿没讲(只在本群生效)。"
# Shown to a bot admin under an item a group's admins already decided, with 采纳 to make it
# every chat's answer.
REVIEW_GROUP_CHOICE = "{group}的管理员已选:{choice}(只在该群生效)"
REVIEW_GROUP_CHOICE_NOT_COVERED = "讲稿没讲"
BUTTON_REVIEW_ADOPT = "采纳群里的选择(所有聊天生效)"
REVIEW_SKIPPED = "已跳过。"
REVIEW_GONE = "这个问题已经处理过了。"
REVIEW_SAVE_FAILED = "保存失败:{reason}。问题还在待审核列表里,请稍后再试。"
BUTTON_REVIEW_PICK = "{number} 是这一段"
BUTTON_REVIEW_READ = "{number} 阅读"
BUTTON_REVIEW_NOT_COVERED = "讲稿没讲"
BUTTON_REVIEW_SKIP = "跳过"
BUTTON_REVIEW_BACK = "返回"
FOLLOW_UP = "您之前问的“{question}”,讲稿中相关的是这一段:"

# Downloading and uploading a questions file (/questions).
QUESTIONS_USAGE = "用法:/questions 讲稿名(标题或文件名的一部分)。发送 /lectures 查看讲稿列表。"
QUESTIONS_CAPTION = "《{title}》的问题链接({count} 条)。每行“问题<Tab>段落号”,“-”表示讲稿没讲。改好后把这个文件发回给我(文件名不变)即可更新。"
QUESTIONS_SEND_FAILED = "文件发送失败,请稍后再试。"
QUESTIONS_UPLOAD_NAME = "问题链接文件的名字应为“讲稿文件名.questions.tsv”,例如 {example}"
QUESTIONS_UPLOAD_NO_LECTURE = "没有文件名为“{stem}”的讲稿,无法更新它的问题链接。发送 /lectures 查看讲稿列表。"
QUESTIONS_UPDATED = "✅ 已更新《{title}》的问题链接:{count} 条可用。"
QUESTIONS_BAD_LINES = "以下行没有生效(其余的行照常生效;行号是文件里的行号):\n{lines}"
QUESTIONS_BAD_LINE = "· 第 {line} 行:{reason}"
QUESTIONS_MORE_BAD_LINES = "……还有 {count} 行"


# --- Faults: pushes that fail or may not have arrived, upload limits, publish races, CLI ---
PUSH_ALERT_GROUP = "群「{title}」({chat_id})"
PUSH_ALERT_PRIVATE_CHAT = "与 {name} 的私聊({chat_id})"
PUSH_ALERT_CHAT_ID = "聊天 {chat_id}"
PUSH_ALERT_PASSAGE = "第{number}/{total}段 {citation}"
PUSH_ALERT_FAILED = (
    "⚠️ 每日学习推送没有发出\n"
    "聊天:{chat}\n"
    "日期:{day}\n"
    "内容:{passage}\n"
    "Telegram 拒绝发送({error}),自动重试了一段时间仍未成功。学习进度没有前进。\n"
    "点“立即发送”再发一次。"
)
PUSH_ALERT_UNKNOWN = (
    "⚠️ 不确定每日学习推送是否送达\n"
    "聊天:{chat}\n"
    "日期:{day}\n"
    "内容:{passage}\n"
    "消息已经发出,但没有收到 Telegram 的确认(网络超时或机器人中途重启)。"
    "学习进度已按送达计算,机器人不会自动重发,以免重复。\n"
    "请先到群里看一下:如果没有收到,点“立即发送”。"
)
PUSH_ALERT_FORBIDDEN = (
    "⚠️ 机器人无法再向{chat}发送消息(被移出群或被屏蔽),这个聊天的每日学习已暂停。\n"
    "未送达:{passage}\n"
    "把机器人加回群后,由群管理员在群里发送 /subscribe 即可从这一段继续。"
)
BUTTON_SEND_NOW = "立即发送"
RESEND_DONE = "✅ 已发送。"
RESEND_ALREADY_SENT = "这一段已经发到群里了,不再重复发送。"
RESEND_BUSY = "这条推送正在发送中,请稍候。"
RESEND_RETRYING = "Telegram 暂时拒绝发送,机器人会自动重试,失败时再通知你。"
RESEND_FAILED = "发送失败,已记录。请稍后再点“立即发送”。"
RESEND_UNKNOWN = "已发出,但仍没有收到 Telegram 的确认。请到群里看一下。"
RESEND_FORBIDDEN = "机器人已不在这个群里(或被屏蔽),无法发送。"
PUSH_BUSY = "上一条推送还没有发出(正在发送或等待重试),请稍后再试。"
DOCX_TOO_MANY_PARAGRAPHS = "Word 文件段落太多(超过 {limit} 段),请拆成几篇讲稿再上传"
UPLOAD_PARSE_FAILED = "解析文件时出错,请重新发送"
UPLOAD_SAVE_FAILED = "服务器保存文件失败(可能磁盘已满),请稍后再试或联系机器人管理员"
UPLOAD_MORE_ITEMS = "· ……另有 {count} 项"
UPLOAD_ID_TAKEN_AT_PUBLISH = "没有发布:在你确认之前,同名讲稿 {existing} 已经发布了(一篇讲稿只能有一个文件)。要替换它,请用完全相同的文件名重新上传。"
CLI_QUESTIONS_UNREADABLE = "无法读取问题文件 {file}:{reason} / cannot read the questions file {file}: {reason}"


# --- Sub-headings (issue 10): a paragraph under （一）坚持… is cited with it ------------------
CITATION_WITH_SUBHEADING = "《{lecture}》· {section} · {subheading} · 第{paragraph}段"
