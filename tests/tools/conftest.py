"""Helpers for the tools' rendering tests: synthetic ads built with the project's ClassAd."""
import pytest

from condorsim.shared.classad import ClassAd


def make_ad(**attrs) -> ClassAd:
    ad = ClassAd()
    for name, value in attrs.items():
        ad[name] = value
    return ad


@pytest.fixture
def ad_factory():
    return make_ad
