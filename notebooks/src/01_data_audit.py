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
import omni
from omni.audit import narrative
from omni.audit import section as s
from omni.reporting.display import headline, note, show, use_report_style

use_report_style(lang)
ws = omni.open(data)
r = omni.audit.analyse_month(ws, month)

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
show(s.sources(r))

# %% [markdown] tags=["lang-en"]
# ## Quarantined rows and why
# Rows that failed validation are kept aside with a reason, never dropped silently. One row can
# have several problem cells.

# %% [markdown] tags=["lang-zh"]
# ## 被隔离的行及原因
# 未通过校验的行会连同原因另行保存，绝不悄悄丢弃。一行可能有多个问题单元格。

# %%
show(s.quarantine(r))

# %% [markdown] tags=["lang-en"]
# ## Completeness

# %% [markdown] tags=["lang-zh"]
# ## 完整度

# %%
show(s.completeness(r))  # what counts, the chart, the columns less than 95% filled

# %% [markdown] tags=["lang-en"]
# ## Identifier validity and junk values

# %% [markdown] tags=["lang-zh"]
# ## 标识符有效性与垃圾值

# %%
show(s.identifiers(r))  # how identifiers are normalized and blocked, validity, junk values

# %% [markdown] tags=["lang-en"]
# ## Outlying amounts

# %% [markdown] tags=["lang-zh"]
# ## 异常金额

# %%
show(s.outliers(r))  # robust z-score of the log amount beyond 5, by file row number

# %% [markdown] tags=["lang-en"]
# ## Duplicates

# %% [markdown] tags=["lang-zh"]
# ## 重复

# %%
show(s.duplicates(r))  # rows identical but for the record key

# %% [markdown] tags=["lang-en"]
# ## Volume over time
# Rows per month for the last 12 months; this month against the mean of the previous three.

# %% [markdown] tags=["lang-zh"]
# ## 数据量走势
# 近 12 个月每个数据源的月行数；本月与前三个月均值相比。

# %%
show(s.volume(r))

# %% [markdown] tags=["lang-en"]
# ## Clocks and timezones

# %% [markdown] tags=["lang-zh"]
# ## 时钟与时区

# %%
show(s.clocks(r))  # hour-of-day profiles against the other sources: a shift means a wrong timezone

# %% [markdown] tags=["lang-en"]
# ## Referential integrity and overlap between sources

# %% [markdown] tags=["lang-zh"]
# ## 引用完整性与数据源重合度

# %%
show(s.integrity(r))  # member ids unknown to the CRM; phone overlap between sources

# %% [markdown] tags=["lang-en"]
# ## Personal data inventory

# %% [markdown] tags=["lang-zh"]
# ## 个人信息清单

# %%
show(s.pii(r))  # declared and detected; an undeclared detection is an issue

# %% [markdown] tags=["lang-en"]
# ## Issues, most severe first, and the quality score per source
# The score is the mean of five checks (accepted share, completeness, identifier validity, freshness,
# clock), from 0 to 100.

# %% [markdown] tags=["lang-zh"]
# ## 问题清单（最严重的在前）与各数据源质量得分
# 得分是五项检查（接受比例、完整度、标识符有效性、新鲜度、时钟）的平均值，范围 0 到 100。

# %%
show(s.issues(r))
