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
WARNING_PASSAGE_TOO_LONG = "{citation} 太长({chars}字),发送时会被截断"
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
QUESTION_TRUNCATED = "(问题太长,只按前 {limit} 个字查找。)"
ALSO_ASKED = "你还问了:{questions}。请分开发送,我逐个回答。"

ANSWER_HEADER = "📖 {citation}"
SECTION_HEADER = "📚 {section}({count}段)· 先看第1段:"
SEE_ALSO = "另见:"
SEE_ALSO_ITEM = "· {citation}"

NOT_COVERED = "讲稿里没有讲到这个问题,我不能凭空回答。"
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
CLI_TOKEN_INVALID = (
    "TELEGRAM_BOT_TOKEN 格式不对(应为:数字:密钥)。"
    " / TELEGRAM_BOT_TOKEN is malformed (expected <digits>:<secret>)."
)
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
BUTTON_LIKE = "👍"
BUTTON_DISLIKE = "👎"
FEEDBACK_THANKS = "谢谢反馈!"
NO_MORE_RESULTS = "没有更多相关段落了。"
PASSAGE_GONE = "这段讲稿已经不在了(可能已更新或下架),请重新提问。"
BUTTON_EXPIRED = "这个按钮已失效,请重新提问。"

ASK_USAGE = "请在 /ask 后面写上问题,例如:/ask {example}"
READ_USAGE = "用法:/read 节号 或 /read 节号.段号,例如 /read 3 或 /read 3.2;有多篇讲稿时在前面加讲稿名,例如 /read 党课 3.2。发送 /toc 查看目录。"
READ_NOT_FOUND = "没有找到“{selector}”。发送 /toc 查看有哪些节和段。"
READ_POSITION = "第 {position}/{total} 段"
ANSWER_FAILED = "抱歉,这次回答失败了,请稍后再试。"

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
RETIRED = "已下架《{title}》,文件已移到 retired 文件夹(没有删除)。"
PLAN_LECTURE_GONE = "⚠️ 学习计划用的讲稿(文件 {file})已下架,每日推送已暂停。管理员可以用 /plan 讲稿名 换一篇讲稿继续。"
PLAN_PASSAGE_MOVED = "⚠️ 讲稿内容有更新:上次推送的段落已不在讲稿中,已接着推送后面的段落。"


TIMEZONE_NAMES = {"Asia/Shanghai": "北京时间", "Asia/Chongqing": "北京时间",
                  "Asia/Hong_Kong": "香港时间", "Asia/Macau": "澳门时间", "Asia/Taipei": "台北时间"}


def timezone_name(zone: str) -> str:
    """北京时间 for Asia/Shanghai; other zones by their IANA name."""
    return TIMEZONE_NAMES.get(zone, zone)


def all_commands() -> tuple[tuple[str, str], ...]:
    """Every command, in the order a global admin sees them."""
    return MEMBER_COMMANDS + CHAT_ADMIN_COMMANDS + GLOBAL_ADMIN_COMMANDS


# --- Sub-headings (issue 10): a paragraph under （一）坚持… is cited with it ------------------
CITATION_WITH_SUBHEADING = "《{lecture}》· {section} · {subheading} · 第{paragraph}段"
