"""The admin in Chinese, showing a county administrator only the county's data."""

from django.urls import reverse


def test_the_admin_is_chinese_and_shows_no_infrastructure(client, cast):
    client.force_login(cast.cdc)  # CDC staff may open the admin
    page = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en-US,en").content.decode()
    assert "站点管理" in page or "合水县职业病危害项目申报扩面工作台" in page
    assert "Site administration" not in page
    for infrastructure in ("axes", "Access attempts", "celery", "Periodic", "定时任务"):
        assert infrastructure not in page


def test_only_a_superuser_opens_the_system_site(client, cast):
    client.force_login(cast.cdc)
    assert client.get(reverse("system:index")).status_code == 302  # to the admin login
    client.force_login(cast.admin)
    index = client.get(reverse("admin:index")).content.decode()
    assert reverse("system:index") in index  # the superuser's note on where the machinery went
    system = client.get(reverse("system:index")).content.decode()
    assert "axes" in system.lower() and "celery" in system.lower()
    assert client.get(reverse("system:axes_accessattempt_changelist")).status_code == 200
