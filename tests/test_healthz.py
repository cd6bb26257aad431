import pytest
from django.db import connection


@pytest.mark.django_db
def test_healthz_answers_200_while_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_healthz_answers_503_when_the_database_does_not(client):
    settings_dict = connection.settings_dict
    real_port = settings_dict["PORT"]
    connection.close()
    settings_dict["PORT"] = "1"  # nothing listens there: a real refused connection
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
        settings_dict["PORT"] = real_port
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
