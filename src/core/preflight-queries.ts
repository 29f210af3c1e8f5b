// The read-only SQL preflight runs on every node, in one psql call (each exec channel costs ~65 ms).
export const PREFLIGHT_SETTINGS = [
  'ssl',
  'ssl_cert_file',
  'ssl_key_file',
  'ssl_ca_file',
  'ssl_crl_file',
  'ssl_min_protocol_version',
  'ssl_max_protocol_version',
  'ssl_ciphers',
  'ssl_prefer_server_ciphers',
  'ssl_passphrase_command',
  'password_encryption',
  'config_file',
  'hba_file',
  'ident_file',
  'data_directory',
  'port',
  'unix_socket_directories',
  'listen_addresses',
  'primary_conninfo',
  'log_connections',
  'log_directory',
  'log_filename',
  'logging_collector',
] as const;

export const PREFLIGHT_QUERIES = {
  server: `SELECT current_setting('server_version') AS version,
                  current_setting('server_version_num')::int AS version_num,
                  pg_is_in_recovery() AS standby,
                  pg_postmaster_start_time()::text AS started_at`,
  settings: `SELECT name, setting, source, sourcefile, sourceline, pending_restart
               FROM pg_settings WHERE name IN (${PREFLIGHT_SETTINGS.map((s) => `'${s}'`).join(', ')})`,
  // Never read rolpassword itself: only whether it is an md5 hash.
  md5Roles: `SELECT rolname AS name, rolcanlogin AS can_login FROM pg_authid
               WHERE rolpassword LIKE 'md5%' ORDER BY rolname`,
  // Login roles with no password at all: a trust rule lets them in today; after hardening they would
  // be locked out unless they get one (internal roles: generated, SPEC §3).
  passwordlessRoles: `SELECT rolname AS name FROM pg_authid
                        WHERE rolpassword IS NULL AND rolcanlogin ORDER BY rolname`,
  hbaRules: `SELECT line_number, type, database, user_name, address, netmask, auth_method, options, error
               FROM pg_hba_file_rules ORDER BY line_number`,
  settingErrors: `SELECT name, sourcefile, sourceline, error FROM pg_file_settings WHERE error IS NOT NULL`,
  replicationSenders: `SELECT r.application_name, host(r.client_addr) AS client_addr, r.state, r.sync_state,
                              s.ssl, s.version, s.cipher
                         FROM pg_stat_replication r LEFT JOIN pg_stat_ssl s USING (pid)
                        ORDER BY r.application_name`,
  walReceiver: `SELECT status, sender_host, sender_port, conninfo FROM pg_stat_wal_receiver`,
} as const;
