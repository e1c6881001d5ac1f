import importlib

import pytest

DOMAINS = ["audit", "identity", "value", "attribution", "uplift", "audience"]


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_domain_has_the_same_doors(domain):
    mod = importlib.import_module(f"omni.{domain}")
    assert callable(mod.analyse_month) and "analyse_month" in mod.__all__
    assert mod.plots.__name__ == f"omni.{domain}.plots"
    assert mod.narrative.__name__ == f"omni.{domain}.narrative"
    assert any(name.startswith("plot_") for name in dir(mod.plots))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        mod.nope  # noqa: B018
