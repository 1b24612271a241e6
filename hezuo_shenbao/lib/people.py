"""How a person is named on pages and documents: their name (姓名), not their login."""


def display_name(user):
    """姓 then 名 with no space, as Chinese names are written; the login name only when no name is set.

    Accounts usually carry the whole name in first_name (张敏); get_full_name() would put 名 before 姓
    with a space when both fields are filled."""
    if user is None:
        return ""
    return f"{user.last_name}{user.first_name}".strip() or user.get_username()
