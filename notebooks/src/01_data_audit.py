# omni-notebook: {"needs": "sources"}
# %% [markdown] tags=["lang-en"]
# # Data audit
#
# Is this month's data fit to analyse? For every source: how many rows arrived and how many were
# quarantined (and why), how complete and valid the columns and identifiers are, whether the data is
# fresh, whether volumes and clocks look normal, whether ids point at known members, how sources
# overlap, and where personal data sits. It ends with a ranked list of issues and a quality score per
# source. Personal data is shown masked only.

# %% [markdown] tags=["lang-zh"]
# # 数据审计
#
# 本月的数据是否可以用于分析？逐个数据源检查：收到多少行、隔离了多少行（及原因），各列和标识符的完整度与有效性，
# 数据是否新鲜，数据量和时钟是否正常，ID 是否指向已知会员，数据源之间的重合度，以及个人信息在哪些列中。最后给出按严重程度
# 排序的问题清单和每个数据源的质量得分。个人信息一律只显示脱敏后的值。

# %% tags=["parameters"]
data = "data/sample"  # dataset folder (raw/sources.yaml inside)
month = None  # report month YYYY-MM, or None for the last complete month in the data
seed = 7  # passed by the report runner (the audit draws nothing at random)
lang = "en"  # report language, "en" or "zh" (the runner passes --lang or the dataset's report: {lang})

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt

import omni
from omni.audit import narrative, plots
from omni.reporting.display import headline, note, table, use_report_style

use_report_style(lang)
ws = omni.open(data)
r = omni.audit.analyse_month(ws, month)
t = r.tables

# %%
# NBVAL_CHECK_OUTPUT: headline numbers are deterministic for the test world
headline(narrative.headline(r), title=narrative.title(r))
note(narrative.summary(r))

# %% [markdown] tags=["lang-en"]
# ## Sources at a glance
# Rows received, accepted and quarantined; the time span each source covers; and freshness (days from
# the last record to the end of the report month).

# %% [markdown] tags=["lang-zh"]
# ## 数据源概览
# 每个数据源接收、接受和隔离的行数，覆盖的时间范围，以及新鲜度（最后一条记录距报告月末的天数）。

# %%
table(
    t["overview"][["source", "format", "encoding", "timezone", "rows_in", "accepted", "quarantined",
                   "quarantine_rate", "first", "last", "days_stale", "rows_this_month"]],
    formats={"quarantine_rate": "{:.3%}", "days_stale": "{:.1f}", "first": "{:%Y-%m-%d}", "last": "{:%Y-%m-%d}",
             "rows_this_month": "{:,.0f}"},
)

# %% [markdown] tags=["lang-en"]
# ## Quarantined rows and why
# Rows that failed validation are kept aside with a reason, never dropped silently. One row can
# have several problem cells.

# %% [markdown] tags=["lang-zh"]
# ## 被隔离的行及原因
# 未通过校验的行会连同原因另行保存，绝不悄悄丢弃。一行可能有多个问题单元格。

# %%
if t["quarantine"].empty:
    note(narrative.no_quarantine())
else:
    table(t["quarantine"],
          caption="Quarantined cells by source, column and reason (example row = 1-based data row in the file)")

# %% [markdown] tags=["lang-en"]
# ## Completeness
# Share of rows with a value, per column. Identifier columns are often sparse by design (not every
# order has a member card), so the chart and the quality score count the other columns; required
# columns must be complete.

# %% [markdown] tags=["lang-zh"]
# ## 完整度
# 每列有值的行所占比例。标识符列本来就常常稀疏（并非每笔订单都有会员卡），因此图表和质量得分只计其他列；必填列必须完整。

# %%
plots.plot_completeness(r)
plt.show()
table(t["incomplete_columns"][["source", "column", "type", "identifier", "filled", "required"]],
      formats={"filled": "{:.1%}"}, caption="Columns less than 95% filled")

# %% [markdown] tags=["lang-en"]
# ## Identifier validity and junk values
# Identifiers are normalized (phones to E.164, emails lower-cased, device ids canonical, WeChat and
# platform ids scoped). Values that cannot identify anyone (null-like strings, store default phones,
# all-zero device ids, masked phones, malformed values) are blocked from linking.

# %% [markdown] tags=["lang-zh"]
# ## 标识符有效性与垃圾值
# 标识符先经过标准化（手机号转为 E.164，邮箱转小写，设备 ID 规范化，微信和平台 ID 加作用域）。无法识别任何人的值
# （类空值字符串、门店默认手机号、全零设备 ID、打码手机号、格式错误的值）不参与关联。

# %%
table(t["validity"], formats={"valid_share": "{:.2%}", "top_invalid_n": "{:,.0f}"},
      caption="Identifier values per source and type")
table(t["junk"], caption="Blocked and invalid identifier values by reason")

# %% [markdown] tags=["lang-en"]
# ## Outlying amounts
# Amounts that pass validation (finite, not negative, under the column's `max`) but sit far from their
# source's typical value: robust z-score on the log amount (median and MAD per source and column),
# beyond 5. Listed by file row number for review; they stay in the analysis.

# %% [markdown] tags=["lang-zh"]
# ## 异常金额
# 通过校验（有限、非负、低于该列的 `max`）但远离所在数据源典型值的金额：按数据源和列计算对数金额的稳健 z 分数
# （中位数与 MAD），超过 5 即列出。按文件行号列出以供复核；它们仍保留在分析中。

# %%
if t["outliers"].empty:
    note(narrative.no_outliers())
else:
    table(t["outliers"], formats={"value": "{:,.2f}", "typical": "{:,.2f}", "robust_z": "{:+.1f}"},
          max_rows=30, caption="Outlying amounts (row = 1-based data row in the file)")

# %% [markdown] tags=["lang-en"]
# ## Duplicates
# Accepted rows identical to another row in every column but the record key (duplicate keys
# themselves are quarantined above).

# %% [markdown] tags=["lang-zh"]
# ## 重复
# 除记录主键外所有列都与另一行相同的已接受行（主键重复的行已在上文隔离）。

# %%
table(t["duplicates"], formats={"duplicate_share": "{:.2%}"})

# %% [markdown] tags=["lang-en"]
# ## Volume over time
# Rows per month for the last 12 months; this month against the mean of the previous three.

# %% [markdown] tags=["lang-zh"]
# ## 数据量走势
# 近 12 个月每个数据源的月行数；本月与前三个月均值相比。

# %%
plots.plot_volume(r)
plt.show()
table(t["volume_change"], formats={"previous_mean": "{:,.0f}", "change": "{:+.1%}", "this_month": "{:,.0f}"})

# %% [markdown] tags=["lang-en"]
# ## Clocks and timezones
# People's daily rhythm is the same in every channel, so a source whose hour-of-day profile is shifted
# against the others was probably stamped in another timezone (UTC exports read as Beijing time show
# a shift of -8 h). The loader converts each source from its declared timezone; a flag here means the
# declaration is probably wrong.

# %% [markdown] tags=["lang-zh"]
# ## 时钟与时区
# 人们一天中的作息在各个渠道是一样的，因此某个数据源的分时分布若与其他数据源错开，多半是按另一个时区打的时间戳
# （按北京时间读取的 UTC 导出会错开 -8 小时）。加载时按各数据源声明的时区换算；此处标记说明声明很可能有误。

# %%
if len(t["clocks"]):
    table(t["clocks"], formats={"corr_at_best": "{:.2f}", "corr_at_zero": "{:.2f}"})
    note(narrative.clocks(r))

# %% [markdown] tags=["lang-en"]
# ## Referential integrity and overlap between sources
# Member ids used in orders, events and campaigns should exist in the CRM. Overlap: the share of one
# source's phone numbers also present in another (how much each channel can be joined on phone).

# %% [markdown] tags=["lang-zh"]
# ## 引用完整性与数据源重合度
# 订单、行为和活动中使用的会员 ID 应当存在于 CRM 中。重合度：一个数据源的手机号有多大比例也出现在另一个数据源中
# （即各渠道可以靠手机号打通的程度）。

# %%
if len(t["integrity"]):
    table(t["integrity"], formats={"unknown_share": "{:.2%}"})
plots.plot_overlap(r)
plt.show()

# %% [markdown] tags=["lang-en"]
# ## Personal data inventory
# Columns holding personal data, as declared in sources.yaml and as detected in the values. An
# undeclared detection is an issue: it would escape masking.

# %% [markdown] tags=["lang-zh"]
# ## 个人信息清单
# 含有个人信息的列，包括 sources.yaml 中声明的和从取值中检测到的。检测到但未声明的列是一个问题：它会逃过脱敏。

# %%
table(t["pii"], formats={"detected_share": "{:.0%}"}, max_rows=40)

# %% [markdown] tags=["lang-en"]
# ## Issues, most severe first, and the quality score per source
# The score is the mean of five checks (accepted share, completeness, identifier validity, freshness,
# clock), from 0 to 100.

# %% [markdown] tags=["lang-zh"]
# ## 问题清单（最严重的在前）与各数据源质量得分
# 得分是五项检查（接受比例、完整度、标识符有效性、新鲜度、时钟）的平均值，范围 0 到 100。

# %%
table(narrative.issues_table(r), max_rows=30)
plots.plot_scores(r)
plt.show()
