// A small systemd unit syntax check, for machines without systemd-analyze (CI containers): the
// sections and keys our units may use (a typo is an unknown key: systemd would only warn and
// ignore it), Exec*= lines naming an absolute program, and the values of Restart= and Type=. It
// is not systemd's parser; test/mount-helper.test.ts also runs `systemd-analyze verify` where it can.

const KEYS: Record<string, ReadonlySet<string>> = {
  Unit: new Set(['Description', 'Documentation', 'Wants', 'Requires', 'Requisite', 'BindsTo', 'PartOf', 'Upholds',
    'Conflicts', 'Before', 'After', 'OnFailure', 'OnSuccess', 'StartLimitIntervalSec', 'StartLimitBurst',
    'RequiresMountsFor', 'ConditionPathExists', 'AssertPathExists', 'DefaultDependencies']),
  Service: new Set(['Type', 'ExecStart', 'ExecStartPre', 'ExecStartPost', 'ExecReload', 'ExecStop', 'ExecStopPost',
    'Restart', 'RestartSec', 'RestartPreventExitStatus', 'SuccessExitStatus', 'TimeoutStartSec', 'TimeoutStopSec',
    'KillSignal', 'KillMode', 'SendSIGKILL', 'User', 'Group', 'DynamicUser', 'Environment', 'EnvironmentFile',
    'WorkingDirectory', 'StateDirectory', 'CacheDirectory', 'LogsDirectory', 'ConfigurationDirectory',
    'NoNewPrivileges', 'PrivateTmp', 'ProtectSystem', 'ProtectHome', 'ReadWritePaths', 'PIDFile',
    'StandardOutput', 'StandardError', 'SyslogIdentifier', 'LimitNOFILE']),
  Install: new Set(['WantedBy', 'RequiredBy', 'Alias', 'Also', 'DefaultInstance']),
};
const EXEC = /^Exec(Start|StartPre|StartPost|Reload|Stop|StopPost)$/;
const VALUES: Record<string, readonly string[]> = {
  Restart: ['no', 'on-success', 'on-failure', 'on-abnormal', 'on-watchdog', 'on-abort', 'always'],
  Type: ['simple', 'exec', 'forking', 'oneshot', 'dbus', 'notify', 'notify-reload', 'idle'],
};

/** The problems of a unit file's text, one line each ("line N: …"); [] when none. */
export function checkUnitSyntax(text: string): string[] {
  const problems: string[] = [];
  let section: string | null = null;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    const at = `line ${i + 1}`;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const head = /^\[([^\]]+)\]$/.exec(line);
    if (head) {
      section = head[1]!;
      if (!KEYS[section]) problems.push(`${at}: unknown section [${section}]`);
      return;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    if (!kv) return void problems.push(`${at}: not KEY=VALUE: ${JSON.stringify(line)}`);
    const [, key, value] = kv as unknown as [string, string, string];
    if (section === null) return void problems.push(`${at}: ${key}= outside a section`);
    const known = KEYS[section];
    if (!known) return;
    if (!known.has(key)) return void problems.push(`${at}: unknown key ${key}= in [${section}]`);
    // Exec lines may start with the prefixes - @ : + ! (ignore failure, argv0, no expansion, privileges).
    if (EXEC.test(key) && !/^[-@:+!]*\//.test(value)) problems.push(`${at}: ${key}= needs an absolute path, got ${JSON.stringify(value)}`);
    const allowed = VALUES[key];
    if (allowed && !allowed.includes(value)) problems.push(`${at}: ${key}=${value} is not one of ${allowed.join(', ')}`);
  });
  return problems;
}
