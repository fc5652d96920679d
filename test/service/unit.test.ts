import { expect } from 'chai';
import { enabledLink, unitPath } from '../../src/service/paths';
import { execArg, renderUnit, shellLine, systemctlCommands, UnitError, type UnitOptions } from '../../src/service/unit';

const base: UnitOptions = { scope: 'user', node: '/usr/bin/node', bin: '/opt/booster/bin/run', startArgs: [], stopTimeoutSec: 15 };

function directive(unit: string, key: string): string[] {
  return unit
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));
}

describe('service unit', () => {
  it('quotes ExecStart words so systemd reads back the same argument', () => {
    expect(execArg('/etc/booster.json')).to.equal('/etc/booster.json');
    expect(execArg('/home/a b/booster.json')).to.equal('"/home/a b/booster.json"');
    expect(execArg('say "hi"\\')).to.equal('"say \\"hi\\"\\\\"');
    // systemd expands specifiers and variables even in quotes.
    expect(execArg('/srv/100%/$HOME')).to.equal('/srv/100%%/$$HOME');
    expect(execArg('')).to.equal('""');
    expect(() => execArg('/etc/a\nExecStartPre=/bin/evil')).to.throw(UnitError, /control character/);
  });

  it('a user unit runs this node and bin with start and the flags, restarts on failure, starts with the session', () => {
    const unit = renderUnit({ ...base, startArgs: ['--config', '/home/me/booster.json'] });
    expect(directive(unit, 'ExecStart')).to.deep.equal(['/usr/bin/node /opt/booster/bin/run start --config /home/me/booster.json']);
    expect(directive(unit, 'Restart')).to.deep.equal(['on-failure']);
    expect(directive(unit, 'ExecReload')).to.deep.equal(['/bin/kill -HUP $MAINPID']);
    expect(directive(unit, 'WantedBy')).to.deep.equal(['default.target']);
    expect(directive(unit, 'TimeoutStopSec')).to.deep.equal(['15']);
    // A user manager has neither network-online.target nor the sandboxing directives that need privileges.
    expect(unit).to.not.match(/network-online|DynamicUser|ProtectSystem|--data-dir/);
  });

  it('a system unit is sandboxed, keeps its state in StateDirectory and waits for the network', () => {
    const unit = renderUnit({ ...base, scope: 'system', stopTimeoutSec: 12.5 });
    expect(directive(unit, 'ExecStart')).to.deep.equal(['/usr/bin/node /opt/booster/bin/run start --data-dir /var/lib/booster']);
    for (const [key, value] of [
      ['DynamicUser', 'yes'],
      ['StateDirectory', 'booster'],
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['CapabilityBoundingSet', ''],
      ['After', 'network-online.target'],
      ['WantedBy', 'multi-user.target'],
      ['TimeoutStopSec', '13'],
    ]) {
      expect(directive(unit, key), key).to.deep.equal([value]);
    }
    // The interface list comes over netlink; V8 needs W+X pages.
    expect(directive(unit, 'RestrictAddressFamilies')[0]).to.include('AF_NETLINK');
    expect(unit).to.not.include('MemoryDenyWriteExecute');
  });

  it('a system unit runs as --run-as instead of a DynamicUser, and can read code under /home', () => {
    const unit = renderUnit({ ...base, scope: 'system', runAs: 'pi', bin: '/home/pi/booster/bin/run' });
    expect(directive(unit, 'User')).to.deep.equal(['pi']);
    expect(directive(unit, 'DynamicUser')).to.deep.equal([]);
    expect(directive(unit, 'ProtectHome')).to.deep.equal(['read-only']);
    expect(() => renderUnit({ ...base, scope: 'system', runAs: 'pi\nUser=root' })).to.throw(UnitError, /not a valid user name/);
  });

  it('refuses relative binaries', () => {
    expect(() => renderUnit({ ...base, node: 'node' })).to.throw(UnitError, /absolute/);
  });

  it('names the user and system unit paths and the systemctl commands', () => {
    expect(unitPath('user', {}, '/home/me')).to.equal('/home/me/.config/systemd/user/booster.service');
    expect(unitPath('user', { XDG_CONFIG_HOME: '/cfg' }, '/home/me')).to.equal('/cfg/systemd/user/booster.service');
    expect(unitPath('system')).to.equal('/etc/systemd/system/booster.service');
    expect(enabledLink('user', {}, '/h')).to.equal('/h/.config/systemd/user/default.target.wants/booster.service');
    expect(shellLine(systemctlCommands('user', 'enable'))).to.equal('systemctl --user daemon-reload && systemctl --user enable --now booster');
    expect(shellLine(systemctlCommands('system', 'disable'))).to.equal('systemctl disable --now booster && systemctl daemon-reload');
  });
});
