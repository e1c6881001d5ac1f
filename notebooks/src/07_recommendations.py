# omni-notebook: {"prepare": "omni.recommend"}
# %% [markdown] tags=["lang-en"]
# # Recommendations
#
# What to offer each person next, from everything they bought in stores, on Tmall, JD, Douyin and
# the brand's site, and what they viewed, joined by OneID. Models are fitted on everything before
# the report month and scored on what people bought in it (never leave-one-out), against a
# time-aware popularity baseline and, on synthetic data, the oracle that knows each person's taste.

# %% [markdown] tags=["lang-zh"]
# # 个性化推荐
#
# 根据每个人在门店、天猫、京东、抖音和官网的全部购买以及浏览记录（由 OneID 打通），推荐下一步该提供的商品。模型用报告月之前的
# 全部数据拟合，在报告月的实际购买上评估（不用留一法），对比时间加权的热门基线；在合成数据上还对比了知道每个人真实偏好的理论上限。

# %% tags=["parameters"]
data = "data/sample"  # dataset folder (raw/sources.yaml inside)
month = None  # report month YYYY-MM, or None for the last complete month in the data
lang = "en"  # report language, "en" or "zh"
k = 20  # list length
factors = 32  # ALS/BPR latent factors
iterations = 15  # ALS iterations (BPR: 6x)
half_life_days = 60.0  # recency half-life of purchases
exclude_days = 30.0  # business rule: nothing bought in the last days, except repeat items
max_per_category = 4  # business rule: at most this many SKUs of one category per list
n_boot = 200  # paired bootstrap replicates over people
seed = 7

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt

import omni
from omni.recommend import analyse_month
from omni.recommend import narrative as rn
from omni.recommend import plots as rp
from omni.reporting.display import headline, note, table, use_report_style

use_report_style(lang)
ws = omni.open(data)
r = analyse_month(ws, month, k=k, factors=factors, iterations=iterations, half_life_days=half_life_days,
                  exclude_days=exclude_days, max_per_category=max_per_category, n_boot=n_boot, seed=seed)

# %%
# NBVAL_CHECK_OUTPUT: headline numbers are deterministic for the test world
headline(rn.headline(r), title=rn.title(r))
note(rn.summary(r))

# %% [markdown] tags=["lang-en"]
# ## The models compared
# recall@k: the share of what a person bought in the month found in their top k; NDCG@10 and MAP@12
# also reward putting it first. Intervals resample people, the same people for every model.

# %% [markdown] tags=["lang-zh"]
# ## 模型对比
# recall@k：一个人当月所购商品出现在其前 k 个推荐中的比例；NDCG@10 和 MAP@12 还奖励把它排在前面。区间按人重抽样，各模型使用相同的人。

# %%
rp.plot_models(r)
plt.show()
table(**rn.models_table(r))

# %% [markdown] tags=["lang-en"]
# ## By segment
# New people have no history: they get the popular list of their segment (gender and age band).

# %% [markdown] tags=["lang-zh"]
# ## 分群表现
# 新客没有历史记录：他们得到所在人群（性别与年龄段）的热门列表。

# %%
table(**rn.segments_table(r))

# %% [markdown] tags=["lang-en"]
# ## Omnichannel against single-channel
# What OneID adds: the same blend fitted on one channel's orders only, as that channel alone would see them.

# %% [markdown] tags=["lang-zh"]
# ## 全渠道对比单一渠道
# OneID 带来的价值：同一融合模型只用单一渠道的订单拟合，即该渠道自己能看到的数据。

# %%
note(rn.omnichannel(r))
rp.plot_single_channel(r)
plt.show()
table(**rn.single_channel_table(r))

# %% [markdown] tags=["lang-en"]
# ## What is recommended next month
# The lists for next month, after the business rules: nothing bought in the last days unless it is a
# refill, nothing out of season or not yet launched, a cap per category, no list for people who opted
# out. The lists are in the cache keyed by OneID; audiences can select on them (`top_category`).

# %% [markdown] tags=["lang-zh"]
# ## 下月推荐什么
# 应用业务规则后的下月推荐列表：近期买过的不再推荐（补充装除外），不推荐过季或未上市商品，每个品类有上限，已退订营销的人不生成列表。
# 列表按 OneID 存放在缓存中，人群规则可以直接使用（`top_category`）。

# %%
rp.plot_recommended_categories(r)
plt.show()
table(**rn.examples_table(r))

# %% [markdown] tags=["lang-en"]
# ## Order lines
# Every order line is accounted for: rows in = accepted + quarantined, and each accepted line joined
# to its order's OneID (through the order's record, never a raw identifier).

# %% [markdown] tags=["lang-zh"]
# ## 订单行
# 每条订单行都有去向：输入行数 = 接收 + 隔离；每条接收的订单行通过其订单记录关联到 OneID（从不使用原始标识）。

# %%
table(**rn.reconciliation_table(r))
