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


@pytest.mark.django_db
def test_home_page_leads_to_the_walk_list_and_the_route_request(client):
    body = client.get("/").content.decode()
    assert 'href="/walks/"' in body
    assert 'href="/request/"' in body
    assert 'href="/you-said-we-did/"' in body


@pytest.mark.django_db
def test_every_page_names_its_icon_so_browsers_do_not_ask_for_a_missing_one(client):
    from django.contrib.staticfiles import finders

    body = client.get("/").content.decode()
    assert 'rel="icon" href="/static/img/favicon.svg"' in body
    assert finders.find("img/favicon.svg")
