from walkandtalk.celery import app


def test_broker_calls_time_out_in_seconds():
    """A hung Redis must not hang a web worker: every broker wait is bounded."""
    conf = app.conf
    assert conf.broker_url.startswith("redis://")
    assert conf.broker_connection_timeout <= 3
    assert conf.broker_transport_options["socket_timeout"] <= 3
    assert conf.broker_transport_options["socket_connect_timeout"] <= 3
    assert conf.task_publish_retry_policy["max_retries"] <= 2
