"""Fixtures of the matching tests."""

import pytest


@pytest.fixture
def staff(cast, as_user, django_capture_on_commit_callbacks, eager_tasks):
    """The CDC's 张敏, whose requests run the tasks they queue (eagerly, as without a broker)."""
    client = as_user(cast.cdc)
    post = client.post

    def post_and_run(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return post(*args, **kwargs)

    client.post = post_and_run
    return client
