"""Test-session set-up shared by tests/ and the doctests in jitconv/."""
import os


def pytest_configure(config):
    # tests never read or write the user's wisdom file; planner tests use tmp paths
    os.environ["JITCONV_WISDOM"] = "off"
