# omni-notebook: {"prepare": "omni.audience"}
# %% [markdown] tags=["lang-en"]
# # Audiences
#
# Who can marketing act on this month? Each audience is a rule over the unified data (what people
# viewed, bought, in which channel, their RFM class, CLV tier and churn risk, their response to the
# last campaign), defined in a YAML file. For each one the report shows how many people it selects,
# how many of them opted out of marketing (they are never exported), how the audiences overlap, and
# how many each ad platform could reach with the identifiers we hold. The export itself
# (`omni audience export`) writes each platform's hashed upload file and logs every export; this
# report shows counts only.

# %% [markdown] tags=["lang-zh"]
# # 人群包
#
# 本月营销可以触达谁？每个人群包是定义在全域统一数据上的一条规则（浏览过什么、买过什么、在哪个渠道、RFM 类别、CLV 分层
# 和流失风险、对上次活动的响应），写在一个 YAML 文件中。报告逐个展示人群包选中多少人、其中多少人退订了营销（他们永远
# 不会被导出）、人群包之间如何重叠，以及凭我们掌握的标识符各广告平台能触达多少人。导出本身（`omni audience export`）
# 为每个平台写出哈希后的上传文件并记录每次导出；本报告只显示人数。

# %% tags=["parameters"]
data = "data/sample"  # dataset folder (raw/sources.yaml inside)
month = None  # report month YYYY-MM, or None for the last complete month in the data
seed = 7  # passed by the report runner (audiences are deterministic)
lang = "en"  # report language, "en" or "zh" (the runner passes --lang or the dataset's report: {lang})
definitions = None  # audience definitions YAML, or None for omni's default audiences
platforms = ["tencent", "google", "meta"]  # ad platforms counted for reach
k = 10  # counts of fewer people are blanked in tables and the heat map

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt

import omni
from omni.audience import narrative, plots
from omni.reporting.display import headline, note, table, use_report_style

use_report_style(lang)
ws = omni.open(data)
r = omni.audience.analyse_month(ws, month, definitions=definitions, platforms=platforms, k=k)

# %%
# NBVAL_CHECK_OUTPUT: headline numbers are deterministic for the test world
headline(narrative.headline(r), title=narrative.title(r))
note(narrative.summary(r))

# %% [markdown] tags=["lang-en"]
# ## Audience sizes
# People each rule selects at the month end, how many of them opted out of marketing, and how many
# remain eligible for activation. Counts under the suppression threshold are blanked.

# %% [markdown] tags=["lang-zh"]
# ## 人群包规模
# 各规则在月末选中的人数、其中退订营销的人数，以及仍可激活的人数。低于抑制阈值的人数留空。

# %%
table(r.tables["sizes"], caption=narrative.sizes_caption(r))
plots.plot_sizes(r)
plt.show()
note(narrative.largest(r))

# %% [markdown] tags=["lang-en"]
# ## Overlap
# How many people two audiences share, as a share of the row audience (the diagonal is the audience
# itself). Overlapping audiences compete for the same people: decide which message wins before
# exporting both to one platform.

# %% [markdown] tags=["lang-zh"]
# ## 重叠
# 两个人群包共有的人数，占行人群包的比例（对角线为人群包本身）。重叠的人群包在争夺同一批人：把两者导出到同一平台之前，
# 先决定哪条信息优先。

# %%
plots.plot_overlap(r)
plt.show()
note(narrative.overlap(r))

# %% [markdown] tags=["lang-en"]
# ## Reach by platform
# Eligible people each platform can match: Tencent Ads through the MD5 of an 11-digit mainland
# mobile or of a device id (IMEI, IDFA, OAID), Google Customer Match and Meta through the SHA-256 of
# an email or a phone with its country code. Identifiers shared by two OneIDs are never exported.

# %% [markdown] tags=["lang-zh"]
# ## 各平台可触达人数
# 各平台能匹配上的可激活人数：腾讯广告通过 11 位中国大陆手机号或设备 ID（IMEI、IDFA、OAID）的 MD5 匹配，Google
# Customer Match 和 Meta 通过邮箱或带国家码手机号的 SHA-256 匹配。被两个 OneID 共用的标识符永远不会导出。

# %%
table(r.tables["reach"], caption=narrative.reach_caption(r))
plots.plot_reach(r)
plt.show()
note(narrative.reach(r))

# %% [markdown] tags=["lang-en"]
# ## Consent
# A person counts as opted out when **any** of their records says so (conservative), not only the
# most recent one. The export removes them before anything is hashed, and an identifier that an
# opted-out person also holds is never exported for anyone.

# %% [markdown] tags=["lang-zh"]
# ## 营销授权
# 只要某人的**任一**记录表示退订，就视为退订（保守），而不只看最近一条。导出时会在哈希之前移除这些人，且退订者持有的
# 标识符对任何人都不会导出。

# %%
note(narrative.consent(r))

# %% [markdown] tags=["lang-en"]
# ## How the audiences are made
# - **Definitions** live in a YAML file (`omni audience list` shows them; the defaults are in
#   `omni/audience/default_audiences.yaml`, the syntax in `docs/audiences.md`). Every audience is
#   evaluated at the end of the month over orders in every channel, site/app events, campaign
#   assignments and the RFM/CLV figures of the value report (same model, same tiers).
# - **browse_abandon**: a product view or add-to-cart in the last *N* days and no paid order at or
#   after the last one. **bought**: paid orders in a channel/category and window. **rfm_class**,
#   **clv_tier**, **churn_risk** (1 − P(alive)): customers only. **campaign_responder**: assigned to
#   a treatment arm and bought within the campaign window. Rules combine with all/any/not.
# - **Export** (`omni audience export --out DIR`): one file per audience and platform, built from
#   normalized identifiers with each platform's own rule (Tencent MD5 of the 11-digit mobile and of
#   device ids; Google SHA-256 of E.164 phones and normalized emails; Meta SHA-256 of digits-only
#   phones and emails), plus keyed HMAC pseudonyms of the OneIDs for in-house tools. It refuses to
#   run without `OMNI_PSEUDONYM_KEY` and appends who, when, what and how many to `export_log.jsonl`.

# %% [markdown] tags=["lang-zh"]
# ## 人群包是怎么生成的
# - **定义**写在 YAML 文件中（`omni audience list` 可查看；默认定义在 `omni/audience/default_audiences.yaml`，语法见
#   `docs/audiences.md`）。每个人群包在月末对所有渠道的订单、官网/App 行为、活动分组以及价值报告的 RFM/CLV 指标
#   （同一模型、同一分层）求值。
# - **browse_abandon**：近 *N* 天内浏览过商品或加购，且在最后一次之后没有已支付订单。**bought**：某渠道/品类在某时间窗内
#   的已支付订单。**rfm_class**、**clv_tier**、**churn_risk**（1 − P(存活)）：仅限客户。**campaign_responder**：被分到
#   干预组且在活动期间购买。规则可用 all/any/not 组合。
# - **导出**（`omni audience export --out DIR`）：每个人群包、每个平台一个文件，由标准化后的标识符按各平台自己的规则生成
#   （腾讯：11 位手机号和设备 ID 的 MD5；Google：E.164 手机号和标准化邮箱的 SHA-256；Meta：纯数字手机号和邮箱的 SHA-256），
#   另附 OneID 的带密钥 HMAC 假名供内部工具使用。没有 `OMNI_PSEUDONYM_KEY` 时拒绝运行，并把谁、何时、导出了什么、多少人
#   追加到 `export_log.jsonl`。

