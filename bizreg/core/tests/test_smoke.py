import pytest

from bizreg.accounts.roles import ROLES


@pytest.mark.django_db
def test_every_role_can_open_home(role_users, client_for):
    for role in ROLES:
        response = client_for(role_users[role.code]).get("/")
        assert response.status_code == 200, role.code
        assert "首页" in response.content.decode()
