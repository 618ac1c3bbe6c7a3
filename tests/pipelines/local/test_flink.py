"""The session cluster's ports, folders and config, as the environment sets them (no cluster
runs here; tests/integration/test_flink_session_cluster.py starts a real one)."""

import re

from pipelines.local import flink


def test_ports_folders_and_config(tmp_path):
    cluster = flink.FlinkCluster.from_environment(
        {'GOLDSTREAM_FLINK_REST_PORT': '18081', 'GOLDSTREAM_STATE_DIR': str(tmp_path)}
    )
    assert (cluster.rest_port, cluster.rpc_port, cluster.start_deadline_s) == (18081, 18082, 90)
    assert cluster.rest_url == 'http://127.0.0.1:18081'
    assert cluster.process('taskmanager').pid_file == tmp_path / 'flink' / 'taskmanager.pid'
    assert cluster.process('jobmanager').marker == (
        flink.MAIN_CLASSES['jobmanager'],
        '--configDir',
        str(tmp_path / 'flink' / 'conf'),
    )

    flink.write_config(cluster)

    config = (cluster.conf_dir / 'config.yaml').read_text()
    assert 'rest.port: 18081' in config and 'jobmanager.rpc.port: 18082' in config
    assert f'io.tmp.dirs: {tmp_path / "flink" / "tmp"}' in config
    assert not re.search(r'@[A-Z_]+@', config)  # every placeholder filled
    assert (cluster.conf_dir / 'log4j2.properties').is_file()


def test_jvm_options_are_the_flags_without_comments():
    options = flink.jvm_options()
    assert options and all(option.startswith('-') for option in options)
