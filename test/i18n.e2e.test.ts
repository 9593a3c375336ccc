import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { TestClockFile, tempDir, volact } from './harness/cli.js';
import { type Service } from './harness/processes.js';
import { makeAuthority, startHost, type AuthorityWorld } from './harness/world.js';

/** No locale from the machine running the tests: each case sets its own. */
const noLocale = { LC_ALL: '', LC_MESSAGES: '', LANG: '' };

/** The CLI in Japanese (LANG or --lang) and in English (LANG=C), run as an operator runs it. */
describe('the CLI in Japanese and English', { timeout: 300_000 }, () => {
  const tmp = tempDir('volact-i18n-');
  let clock: TestClockFile;
  let world: AuthorityWorld;
  let authority: Service;
  let host: Service;
  const hostDir = () => join(tmp.path, 'host');
  const pc = (name: string) => ({ ...clock.env(), ...noLocale, VOLACT_STATE_DIR: join(tmp.path, name) });

  before(async () => {
    clock = new TestClockFile(join(tmp.path, 'clock'), Date.UTC(2026, 10, 6, 9));
    world = await makeAuthority(tmp.path, clock.env());
    authority = await world.serve();
    host = await startHost(hostDir(), {
      root: world.rootPub,
      authority: `http://127.0.0.1:${authority.port}`,
      env: clock.env(),
    });
  });

  after(async () => {
    await host?.stop();
    await authority?.stop();
    tmp.cleanup();
  });

  it('prints an error and its fix in Japanese under LANG=ja_JP.UTF-8 or --lang ja, and in English as before under LANG=C', async () => {
    const env = pc('typo');
    const ja = await volact(['slmgr', '-ipk', 'ABCDE-FGH'], { ...env, LANG: 'ja_JP.UTF-8' });
    assert.equal(ja.code, 3, 'the exit code does not depend on the language');
    assert.equal(
      ja.stderr,
      'エラー KEY_MALFORMED: プロダクト キーは 5 文字ずつ 5 つのグループの 25 文字ですが、入力されたのは 8 文字です\n' +
        '対処: キー全体を XXXXX-XXXXX-XXXXX-XXXXX-XXXXX の形式で入力してください。\n',
    );
    const flag = await volact(['--lang', 'ja', 'slmgr', '-ipk', 'ABCDE-FGH'], { ...env, LANG: 'C' });
    assert.equal(flag.stderr, ja.stderr, '--lang ja wins over LANG=C');
    const after = await volact(['slmgr', '-ipk', 'ABCDE-FGH', '--lang=ja'], { ...env, LC_ALL: 'en_US.UTF-8' });
    assert.equal(after.stderr, ja.stderr, '--lang works after the command too');
    const messages = await volact(['slmgr', '-ipk', 'ABCDE-FGH'], { ...env, LC_MESSAGES: 'ja_JP.UTF-8', LANG: 'C' });
    assert.equal(messages.stderr, ja.stderr, 'LC_MESSAGES comes before LANG');

    const en = await volact(['slmgr', '-ipk', 'ABCDE-FGH'], { ...env, LANG: 'C' });
    assert.equal(
      en.stderr,
      'Error KEY_MALFORMED: a product key has 25 characters in five groups of five; this has 8\n' +
        'Fix: Type the whole key as XXXXX-XXXXX-XXXXX-XXXXX-XXXXX.\n',
    );
    const json = await volact(['slmgr', '--json', '-ipk', 'ABCDE-FGH'], { ...env, LANG: 'ja_JP.UTF-8' });
    assert.equal(json.json.error.message, 'a product key has 25 characters in five groups of five; this has 8');
    assert.equal(json.json.error.code, 'KEY_MALFORMED', '--json stays language-neutral');
  });

  it('refuses a --lang it does not speak with a usage error that names the choices', async () => {
    const r = await volact(['--lang', 'fr', 'slmgr', '-dli'], pc('fr'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^Error USAGE: --lang takes ja or en; got fr\nFix: /);
    const ja = await volact(['slmgr', '-dli', '--lang', 'de'], { ...pc('fr'), LANG: 'ja_JP.UTF-8' });
    assert.match(ja.stderr, /^エラー USAGE: --lang に指定できるのは ja または en です \(指定値: de\)\n対処: /);
  });

  it('shows slmgr -dli, -dlv and -xpr of a MAK machine in Japanese, and the same English under LANG=C, unset or --lang en', async () => {
    const issued = await volact(
      ['authority', 'issue-mak', '--dir', world.dir, '--edition', 'desk-enterprise', '--activations', '2', '--json'],
      clock.env(),
    );
    assert.equal(issued.code, 0, issued.stderr);
    const env = { ...pc('mak'), VOLACT_FINGERPRINT_FILE: join(tmp.path, 'fp.json') };
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      env.VOLACT_FINGERPRINT_FILE,
      JSON.stringify({ osId: 'os-1', cpu: 'c', board: 'b', disks: ['d'], nics: [] }),
    );
    const trust = await volact(
      ['client', 'trust', world.rootPub, '--authority', `http://127.0.0.1:${authority.port}`],
      env,
    );
    assert.equal(trust.code, 0, trust.stderr);
    assert.equal((await volact(['slmgr', '-ipk', issued.json.key], env)).code, 0);
    const ato = await volact(['slmgr', '-ato'], { ...env, LANG: 'ja_JP.UTF-8' });
    assert.equal(ato.code, 0, ato.stderr);
    assert.match(ato.stdout, /^MAK \(Contoso Desk 2026 Enterprise\) で製品のライセンス認証に成功しました。/);

    const ja = (option: string) => volact(['slmgr', option], { ...env, LANG: 'ja_JP.UTF-8' });
    const dli = (await ja('-dli')).stdout.split('\n');
    assert.equal(dli[0], '説明: VOLUME_MAK チャネル');
    assert.equal(dli[1], `部分プロダクト キー: ${String(issued.json.key).slice(-5)}`);
    assert.equal(dli[3], 'ライセンスの状態: ライセンスされています');
    const dlv = (await ja('-dlv')).stdout;
    assert.match(dlv, /^マシン ID: /m);
    assert.match(dlv, /^MAK .+: .+ でライセンス認証。ライセンス認証の残り回数 1 \/ 2$/m);
    assert.match(dlv, /^再初期化 \(rearm\) の残り回数: \d+$/m);
    assert.equal((await ja('-xpr')).stdout, 'コンピューターは永続的にライセンス認証されています。\n');

    for (const option of ['-dli', '-dlv', '-xpr']) {
      const c = await volact(['slmgr', option], { ...env, LANG: 'C' });
      const unset = await volact(['slmgr', option], env);
      const flag = await volact(['slmgr', option, '--lang', 'en'], { ...env, LANG: 'ja_JP.UTF-8' });
      assert.equal(unset.stdout, c.stdout, `${option}: no locale is English`);
      assert.equal(flag.stdout, c.stdout, `${option}: --lang en wins over a Japanese LANG`);
      assert.doesNotMatch(c.stdout, /[\u3040-\u30ff]/);
    }
    const enDli = (await volact(['slmgr', '-dli'], { ...env, LANG: 'C' })).stdout.split('\n');
    assert.deepEqual(
      [enDli[0], enDli[1]?.replace(/\w{5}$/, 'KEY'), enDli[3]],
      ['Description: VOLUME_MAK channel', 'Partial Product Key: KEY', 'License Status: Licensed'],
    );
    assert.equal(
      (await volact(['slmgr', '-xpr'], { ...env, LANG: 'C' })).stdout,
      'The machine is permanently activated.\n',
    );
  });

  it('describes host and client events in Japanese with translated headers, and keeps the English tables as they were', async () => {
    const env = pc('asker');
    assert.equal((await volact(['client', 'trust', world.rootPub], env)).code, 0);
    assert.equal((await volact(['slmgr', '-ipk', world.setupKeys['desk-pro']!], env)).code, 0);
    assert.equal((await volact(['slmgr', '-skms', `127.0.0.1:${host.port}`], env)).code, 0);
    const refused = await volact(['slmgr', '-ato'], { ...env, LANG: 'ja_JP.UTF-8' });
    assert.equal(refused.code, 5);
    assert.match(
      refused.stderr,
      /^エラー HOST_NOT_ACTIVATED: ライセンス認証ホストが発行元でライセンス認証されていません\n対処: /m,
    );

    const hostJa = await volact(['host', 'events', '--state', hostDir(), '--lang', 'ja'], noLocale);
    assert.equal(hostJa.code, 0, hostJa.stderr);
    const [header, row] = hostJa.stdout.split('\n');
    assert.match(
      header!,
      /^日時 +イベント +マシン ID +仮想マシン +ライセンスの状態 +エディション +結果 +カウント +しきい値$/,
    );
    assert.match(row!, / 12290 ライセンス認証の要求を処理 .* notActivated /);
    // 日時 takes four terminal columns: the event column starts at the same column in both lines
    const columns = (text: string) => text.length + (text.match(/[\u3000-\u9fff]/g)?.length ?? 0);
    assert.equal(row!.indexOf('12290'), columns(header!.slice(0, header!.indexOf('イベント'))), 'aligned');
    const hostEn = await volact(['host', 'events', '--state', hostDir()], { ...noLocale, LANG: 'C' });
    assert.match(
      hostEn.stdout,
      /^at +event +machineId +vm +licenseState +edition +outcome +count +required\n.* 12290 /,
    );

    const clientJa = await volact(['client', 'events'], { ...env, LANG: 'ja_JP.UTF-8' });
    assert.match(clientJa.stdout, /12288 ライセンス認証の要求を送信/);
    const hostDli = await volact(['slmgr', '--host', hostDir(), '-dli', '--lang', 'ja'], noLocale);
    assert.match(
      hostDli.stdout,
      /^ライセンス認証ホスト test-host\nホストのライセンス認証: ライセンス認証されていません\n現在のカウント: /,
    );
    const sai = await volact(['slmgr', '--host', hostDir(), '-sai', '60'], { ...noLocale, LANG: 'ja_JP.UTF-8' });
    assert.equal(sai.stdout, 'ライセンス認証の間隔を 60 分に設定しました。\n');
    const sri = await volact(['slmgr', '--host', hostDir(), '-sai', '120'], { ...noLocale, LANG: 'C' });
    assert.equal(sri.stdout, 'Activation interval set to 120 minutes successfully.\n');
    const hostXpr = await volact(['slmgr', '--host', hostDir(), '-xpr'], { ...noLocale, LANG: 'C' });
    assert.equal(hostXpr.stdout, 'Host activation: NOT activated\n');
  });
});
