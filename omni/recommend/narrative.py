"""The recommendations report's words (English and Chinese): Markdown notes built with
:func:`omni.core.markup.md` (values from the data escaped) and display tables. No computation
beyond formatting."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from omni.core.i18n import add_terms, month_label, relabel, term, tr
from omni.core.markup import md
from omni.core.result import Figure
from omni.recommend.result import RecommendResult

__all__ = ["examples_table", "headline", "models_table", "omnichannel", "reconciliation_table", "segments_table",
           "single_channel_table", "summary", "title"]

add_terms("zh", {
    "popularity": "热门（时间加权）", "buy_again": "再次购买", "copurchase": "共同购买近邻", "coview": "共同浏览近邻",
    "als": "ALS 矩阵分解", "bpr": "BPR 矩阵分解", "blend": "融合模型", "oracle": "理论上限（真实偏好）",
    "model": "模型", "coverage": "覆盖率", "novelty": "新颖度", "lift@20": "相对热门提升", "gap closed": "缩小的差距",
    "segment": "分群维度", "value": "取值", "people": "人数", "new": "新客", "returning": "老客",
    "omnichannel": "全渠道", "single-channel": "单一渠道", "new_vs_returning": "新客/老客", "channel_mix": "渠道构成",
    "rfm_class": "RFM 分类", "channel": "渠道", "lines": "订单行", "count": "数量", "person": "人（已脱敏）",
    "orders to date": "累计订单行", "recent purchases": "最近购买", "recommended next": "下月推荐",
    "lines in the file": "文件中的订单行", "quarantined by the contract": "按数据契约隔离", "accepted": "接收",
    "joined to a paid order": "关联到已付款订单", "joined to a refunded or cancelled order": "关联到退款或取消订单",
    "order not accepted (quarantined or missing)": "订单未被接收（隔离或缺失）", "SKU not in the catalogue": "SKU 不在商品目录中",
    "orders whose line amounts do not sum to the order amount": "订单行金额之和不等于订单金额的订单",
    "no purchase": "无购买", "online only": "仅线上", "store only": "仅门店", "tmall": "天猫", "jd": "京东",
    "douyin": "抖音", "site": "官网", "store": "门店", "skincare": "护肤", "makeup": "彩妆", "fragrance": "香水",
    "haircare": "护发", "apparel": "服装", "accessories": "配饰", "single-channel recall@20": "单渠道 recall@20",
    "omnichannel recall@20": "全渠道 recall@20", "lift": "提升", "lift low": "提升下限", "lift high": "提升上限",
    "popularity recall@20": "热门 recall@20", "blend recall@20": "融合模型 recall@20",
})

_LABELS_ZH = {
    "rec_recall20_popularity": "recall@20，时间加权热门", "rec_best_model": "最佳模型（recall@20）",
    "rec_recall20_best": "recall@20，最佳模型", "rec_lift_recall20": "最佳模型相对热门的提升（recall@20）",
    "rec_recall20_oracle": "recall@20，真实偏好的理论上限", "rec_gap_closed": "最佳模型缩小的与上限差距",
    "rec_omni_lift": "全渠道相对单一渠道的平均提升（recall@20）", "rec_coverage": "最佳模型推荐的商品目录覆盖率",
}


def title(r: RecommendResult) -> str:
    return tr(f"Recommendations at the end of {r.month}", f"个性化推荐：{month_label(r.month)}末")


def headline(r: RecommendResult) -> list[Figure]:
    """The headline figures, labelled in the report language."""
    sample = f"，抽样 {r.eval_people:,} 人中" if r.sampled else ""
    return relabel(r.headline, {**_LABELS_ZH, "rec_people": f"评估人数（{month_label(r.month)}的买家{sample}）"})


def summary(r: RecommendResult) -> str:
    m = r.tables["models"]
    best = r.best_model
    w = ", ".join(f"{term(k)} {v:g}" for k, v in r.weights.items())
    if "oracle_gap" in r.tables:
        gap = r.tables["oracle_gap"].loc[best, "gap closed"]
        extra_en = md(" It closes {g:.0%} of the gap between popularity and the truth's oracle ({o:.3f}).",
                      g=gap, o=m.loc["oracle", "recall@20"])
        extra_zh = md("它缩小了热门基线与真实偏好上限（{o:.3f}）之间 {g:.0%} 的差距。", g=gap, o=m.loc["oracle", "recall@20"])
    else:
        extra_en = extra_zh = ""
    return tr(
        md("Fitted on everything before {m}, scored on the {n:,} people who bought in {m}: the best model, "
           "**{b}**, finds {r:.1%} of what they bought in its top 20 against {p:.1%} for time-aware popularity "
           "({l:+.0%}, 95% CI {lo:+.0%} to {hi:+.0%}).", m=str(r.month), n=r.n_users, b=term(best),
           r=m.loc[best, "recall@20"], p=m.loc["popularity", "recall@20"], l=m.loc[best, "lift@20"],
           lo=m.loc[best, "lift@20 low"], hi=m.loc[best, "lift@20 high"]) + extra_en
        + md(" Blend weights (chosen on {v}): {w}.", v=str(r.month.previous), w=w) + _sample_en(r),
        md("用 {m} 之前的全部数据拟合，在 {m} 有购买的 {n:,} 人上评估：最佳模型 **{b}** 的前 20 个推荐覆盖了他们所购商品的 "
           "{r:.1%}，时间加权热门为 {p:.1%}（{l:+.0%}，95% 置信区间 {lo:+.0%} 至 {hi:+.0%}）。", m=str(r.month), n=r.n_users,
           b=term(best), r=m.loc[best, "recall@20"], p=m.loc["popularity", "recall@20"], l=m.loc[best, "lift@20"],
           lo=m.loc[best, "lift@20 low"], hi=m.loc[best, "lift@20 high"]) + extra_zh
        + md("融合权重（在 {v} 上选定）：{w}。", v=str(r.month.previous), w=w) + _sample_zh(r),
    )


def _sample_en(r: RecommendResult) -> str:
    if not r.sampled:
        return ""
    return md(" The models were compared on a random sample of {e:,} of the {a:,} people with a purchase or view "
              "(with all their history); the lists are fitted on everyone.", e=r.eval_people, a=r.all_people)


def _sample_zh(r: RecommendResult) -> str:
    if not r.sampled:
        return ""
    return md("模型对比基于有购买或浏览的 {a:,} 人中随机抽取的 {e:,} 人（含其全部历史）；推荐列表在全部人群上拟合。",
              e=r.eval_people, a=r.all_people)


def omnichannel(r: RecommendResult) -> str:
    sc = r.tables["single_channel"]
    if sc.empty:
        return tr("Too few people per channel for the single-channel comparison.", "各渠道人数太少，无法做单一渠道对比。")
    best = sc.loc[sc["lift"].idxmax()]
    return tr(
        md("The same blend fitted on one channel's orders only, scored on that channel's buyers against all they "
           "bought: the omnichannel history lifts recall@20 by {a:+.0%} on average, most for {c} ({l:+.0%}).",
           a=float(np.mean(sc["lift"])), c=term(best["channel"]), l=best["lift"]),
        md("同一融合模型只用单一渠道的订单拟合，在该渠道买家上按其全部购买评估：全渠道历史使 recall@20 平均提升 {a:+.0%}，"
           "{c} 提升最多（{l:+.0%}）。", a=float(np.mean(sc["lift"])), c=term(best["channel"]), l=best["lift"]),
    )


def _named(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(lambda v: term(v) if isinstance(v, str) else v)
    return out.rename(columns=term)


def models_table(r: RecommendResult) -> dict[str, Any]:
    m = r.tables["models"].reset_index()
    cols = ["model", "recall@10", "recall@20", "recall@20 low", "recall@20 high", "ndcg@10", "map@12", "lift@20",
            "coverage", "novelty"]
    df = _named(m[cols])
    f = {term(c): "{:.3f}" for c in cols[1:7]} | {term("lift@20"): "{:+.1%}", term("coverage"): "{:.1%}",
                                                  term("novelty"): "{:.2f}"}
    return {"df": df, "formats": f, "caption": tr("Models on the test month (95% paired bootstrap over people)",
                                                 "测试月各模型表现（按人配对自助法 95% 区间）")}


def segments_table(r: RecommendResult) -> dict[str, Any]:
    df = _named(r.tables["segments"])
    return {"df": df, "formats": {c: "{:.3f}" for c in df.columns if "recall" in c},
            "caption": tr("recall@20 by segment", "分群 recall@20")}


def single_channel_table(r: RecommendResult) -> dict[str, Any]:
    df = _named(r.tables["single_channel"])
    return {"df": df, "formats": {c: ("{:+.1%}" if term("lift") in c else "{:.3f}") for c in df.columns[2:]},
            "caption": tr("Omnichannel vs single-channel fits", "全渠道与单一渠道模型对比")}


def reconciliation_table(r: RecommendResult) -> dict[str, Any]:
    return {"df": _named(r.tables["reconciliation"]), "formats": {term("count"): "{:,}"},
            "caption": tr("Where every order line went", "每条订单行的去向")}


def examples_table(r: RecommendResult) -> dict[str, Any]:
    return {"df": _named(r.examples), "caption": tr("Three people (OneIDs masked)", "三个人的例子（OneID 已脱敏）")}
