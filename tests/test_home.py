import pytest


@pytest.mark.django_db
def test_home_page_explains_the_scheme_and_offers_the_exit(client):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Walk and Talk" in body
    assert 'id="exit-this-page"' in body
    assert "bootstrap/css/bootstrap.min.css" in body
    assert "cdn" not in body.lower()
