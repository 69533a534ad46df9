"""Every registered strategy (now and later) runs through the shared template."""

import pytest

from alkit import strategies

from .template import check_strategy

# the diversity-pillar options, exercised on the uncertainty family
OPTION_CASES = [
    (name, opts)
    for name in ("least_confidence", "entropy", "margin")
    for opts in (
        {"dropout": True},
        {"typical": True},
        {"cluster": True},
        {"typical": True, "cluster": True},
    )
]


@pytest.mark.parametrize("name", strategies.available())
@pytest.mark.parametrize("dataset", ["digits", "small_synthetic"])
def test_strategy_template(name, dataset, request):
    check_strategy(name, request.getfixturevalue(dataset))


@pytest.mark.parametrize("name,opts", OPTION_CASES)
def test_strategy_template_options(name, opts, digits):
    check_strategy(name, digits, opts)
