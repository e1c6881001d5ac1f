# %% [markdown] tags=["lang-en"]
# # Identity resolution (OneID)
#
# Every record from CRM, site/app, Tmall/JD/Douyin, stores, WeChat, service and ad touchpoints is
# resolved to one person, the OneID. Strong identifiers (phone, email, member id, WeChat unionid,
# bound platform ids) link records; weak ones (cookies, devices, single-app openids) only attach
# records to a person they point at unambiguously; shared values (store kiosks, default phones) and
# profiles breaking per-type limits are cut. This report shows how the records came together, what
# each rule held back, how ids changed since last month, and, on synthetic data, how accurate it is.

# %% [markdown] tags=["lang-zh"]
# # 身份识别（OneID）
#
# 来自 CRM、官网/App、天猫/京东/抖音、门店、微信、客服和广告触点的每条记录都被归到一个人，即 OneID。强标识符
# （手机号、邮箱、会员 ID、微信 unionid、已绑定的平台 ID）负责关联记录；弱标识符（cookie、设备、单个应用的 openid）
# 只在明确指向某个人时才把记录挂到这个人身上；共享值（门店自助机、默认手机号）和超出各类型上限的画像会被切开。本报告
# 展示记录如何汇聚、每条规则拦下了什么、OneID 与上月相比的变化，以及（在合成数据上）识别的准确度。

# %% tags=["parameters"]
data = "data/sample"  # dataset folder (raw/sources.yaml inside); OMNI_DATA overrides it
month = None  # report month YYYY-MM, or None for the last complete month in the data
seed = 7
lang = "en"  # report language, "en" or "zh" (the runner passes --lang or the dataset's report: {lang})

# %% tags=["remove-cell"]
import omni
from omni.identity import narrative
from omni.identity import section as s
from omni.reporting.display import headline, show, use_report_style

use_report_style(lang)
ws = omni.open(data)
r = omni.identity.analyse_month(ws, month)

# %%
# NBVAL_CHECK_OUTPUT: headline numbers are deterministic for the test world
headline(narrative.headline(r), title=narrative.title(r))

# %%
# what the OneIDs are (known people, platform-only buyers, anonymous profiles, the truth if any), and
# the resolution's warnings (e.g. the probabilistic stage failed and it fell back to the rules only)
show(s.people(r))

# %% [markdown] tags=["lang-en"]
# ## Records to OneIDs, by source
# How many records each source brought, how many people they belong to, and how they were linked:
# by a strong identifier, attached through a weak one, or left alone for lack of any usable id
# (anonymous walk-ins, unknown devices).

# %% [markdown] tags=["lang-zh"]
# ## 各数据源的记录与 OneID
# 每个数据源带来多少条记录、属于多少个人，以及它们是如何关联的：通过强标识符、经由弱标识符挂靠，或因没有任何可用 ID
# 而单独成档（匿名到店顾客、未知设备）。

# %%
show(s.sources(r))

# %% [markdown] tags=["lang-en"]
# ## Merge rates between sources
# Share of a source's records (row) whose OneID also holds a record from another source (column):
# how far each channel is joined to the others.

# %% [markdown] tags=["lang-zh"]
# ## 数据源之间的合并率
# 一个数据源（行）的记录中，其 OneID 同时包含另一个数据源（列）记录的比例：即各渠道与其他渠道打通的程度。

# %%
show(s.merge_rates(r))

# %% [markdown] tags=["lang-en"]
# ## Profile sizes and identifiers per profile
# Most people leave a handful of records; very large profiles deserve a look (next section).

# %% [markdown] tags=["lang-zh"]
# ## 画像大小与每个画像的标识符
# 大多数人只留下少量记录；特别大的画像值得一看（见下一节）。

# %%
show(s.profiles(r))

# %% [markdown] tags=["lang-en"]
# ## The largest profiles and what holds them together
# A bridging identifier is one whose removal would split the profile: where an over-merge would come
# from. The drawing shows the largest profile's records (dots, by source) and identifiers (squares,
# masked).

# %% [markdown] tags=["lang-zh"]
# ## 最大的画像及其关联纽带
# 桥接标识符是指一旦去掉画像就会分裂的标识符：过度合并就出在这里。图中画出最大画像的记录（圆点，按数据源着色）和
# 标识符（方块，已脱敏）。

# %%
show(s.largest(r, seed=seed))

# %% [markdown] tags=["lang-en"]
# ## What each rule held back

# %% [markdown] tags=["lang-zh"]
# ## 每条规则拦下了什么

# %%
show(s.rules(r))  # invalid, shared, ambiguous and over-limit values; the naive graph compared

# %% [markdown] tags=["lang-en"]
# ## Platform buyers: linked by rule, by probability, or not at all

# %% [markdown] tags=["lang-zh"]
# ## 平台买家：按规则关联、按概率关联或未关联

# %%
show(s.platforms(r))  # bound accounts by rule; the others by a Fellegi-Sunter model (Splink), above a threshold

# %% [markdown] tags=["lang-en"]
# ## OneIDs since last month
# Last month's ids are kept for the same people; when two profiles merge the older id survives, and a
# split keeps the id on the larger part.

# %% [markdown] tags=["lang-zh"]
# ## 与上月相比的 OneID
# 同一个人沿用上月的 OneID；两个画像合并时保留较早的 ID，拆分时 ID 留在较大的一部分上。

# %%
show(s.changes(r))

# %% [markdown] tags=["lang-en"]
# ## Accuracy against the synthetic truth

# %% [markdown] tags=["lang-zh"]
# ## 与合成真值对比的准确度

# %%
show(s.accuracy(r))  # pairwise precision and recall, strong-id records and all (synthetic data only)

# %% [markdown] tags=["lang-en"]
# ## Explaining a link
# `omni.oneid.explain(res, a, b)` says why two records share a OneID (the chain of identifiers) or
# which rule kept them apart. Two examples from this month's data:

# %% [markdown] tags=["lang-zh"]
# ## 解释一次关联
# `omni.oneid.explain(res, a, b)` 说明两条记录为什么共享一个 OneID（标识符链），或是哪条规则把它们分开。
# 以下是本月数据中的两个例子：

# %%
print(narrative.examples(r))
