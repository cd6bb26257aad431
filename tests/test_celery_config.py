from walkandtalk.celery import app


def test_broker_calls_time_out_in_seconds_and_a_publish_is_not_retried():
    """A hung Redis must not hang a web worker: every broker wait is bounded, and a publish
    that failed is left to the outbox sweep (tests/test_faults.py shows it with a stuck one)."""
    conf = app.conf
    assert conf.broker_url.startswith("redis://")
    assert conf.broker_connection_timeout <= 1
    assert conf.broker_transport_options["socket_timeout"] <= 1
    assert conf.broker_transport_options["socket_connect_timeout"] <= 1
    assert conf.broker_transport_options["max_retries"] == 0
    assert conf.task_publish_retry is False


def test_a_task_stuck_on_a_server_that_stopped_answering_is_ended():
    assert 0 < app.conf.task_soft_time_limit < app.conf.task_time_limit <= 300
