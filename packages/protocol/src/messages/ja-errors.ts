import type { ErrorCode } from '../errors.js';

/**
 * Japanese message and fix of every error code of errors.ts, with the same {placeholders}. Terms
 * follow the Japanese volume activation guide (ライセンス認証, ホスト キー, しきい値, 猶予期間);
 * commands, options, file names and codes stay as typed.
 */
// one line per code, in the order of errors.ts
// prettier-ignore
export const jaErrors: Partial<Record<ErrorCode, { message: string; fix: string }>> = {
  // --- input -------------------------------------------------------------------------------
  BAD_JSON: { message: '要求の本文が正しい JSON ではありません', fix: 'Content-Type application/json で JSON オブジェクトを 1 つ送信してください。' },
  BAD_REQUEST: { message: 'フィールド {field} が正しくありません: {problem}', fix: 'そのフィールドを修正してください。各フィールドとその型は docs/protocol.md にあります。' },
  BODY_TOO_LARGE: { message: '要求の本文が {limit} バイトを超えています', fix: '本文を小さくしてください。ライセンス認証の要求は 4 KiB を大きく下回ります。' },
  NOT_FOUND: { message: 'エンドポイント {method} {path} はありません', fix: 'エンドポイントの一覧は docs/protocol.md にあります。' },
  USAGE: { message: '{detail}', fix: 'volact --help を実行してください。slmgr のオプションは volact slmgr -? で表示されます。' },
  VALUE_OUT_OF_RANGE: { message: '{name} は {min} から {max} の範囲で指定してください (指定値: {value})', fix: 'その範囲の値を指定してください。' },
  CATALOG_INVALID: { message: 'カタログが正しくありません: {detail}', fix: 'カタログ ファイルを修正してください。形式は docs/operations.md にあります。' },
  UNSUPPORTED_MEDIA_TYPE: { message: '要求の本文は application/json で送信する必要があります (受信した形式: {type})', fix: 'Content-Type: application/json (charset は utf-8 または指定なし) で送信してください。volact はフォームやプレーン テキストを受け付けないため、他のサイトの Web ページから送信することはできません。' },
  REQUEST_INCOMPLETE: { message: '要求の本文が最後まで届きませんでした ({detail})', fix: 'Content-Length またはチャンク形式が示すとおりに本文全体を送信し、応答を受け取るまで接続を維持してください。' },
  BAD_ENCODING: { message: '要求の本文が正しい UTF-8 ではありません', fix: 'JSON の本文を UTF-8 でエンコードしてください。' },
  FILE_TOO_LARGE: { message: '{what} ファイル {file} が {limit} バイトを超えています', fix: 'ファイル名を確認してください。{what} ファイルは最大 {limit} バイトです (/dev/zero のようなデバイスや終わらないパイプは読み終わりません)。' },
  CONFIG_INVALID: { message: '設定ファイル {file} の {line} 行目が正しくありません: {detail}', fix: 'その行を修正してください。キーは serve の長いオプション名です (docs/operations.md#settings-files)。何も開始・保存していないため、現在の設定はそのままです。' },
  CATALOG_OLDER: { message: '提示されたカタログのシリアル番号 {theirs} は、適用中のシリアル番号 {ours} より古いものです', fix: '対処は不要です。新しいカタログがそのまま使われます。エディションを追加するには、現在のカタログを取得してください: volact slmgr --host DIR -upd-catalog (または最新のオフライン バンドル)。' },
  GROUP_UNKNOWN: { message: 'カタログに製品グループ {group} はありません', fix: 'volact authority catalog で製品グループを一覧表示するか、そのグループを含むカタログをインポートしてください。' },

  // --- product keys ------------------------------------------------------------------------
  KEY_MALFORMED: { message: 'プロダクト キーは 5 文字ずつ 5 つのグループの 25 文字ですが、入力されたのは {length} 文字です', fix: 'キー全体を XXXXX-XXXXX-XXXXX-XXXXX-XXXXX の形式で入力してください。' },
  KEY_BAD_CHARACTER: { message: '{position} 文字目 (「{char}」、グループ {group}) はプロダクト キーに使われない文字です', fix: 'キーに使われるのは 2-9 と英字 A C D E F G H J K L M N P Q R T U V W X Y だけです。グループ {group} を確認してください。' },
  KEY_TYPO: { message: 'プロダクト キーに入力の誤りがあります (チェック文字が一致しません)', fix: 'キーを元のものと 1 文字ずつ見比べて、もう一度入力してください。' },
  KEY_UNKNOWN: { message: 'このプロダクト キーは形式は正しいものの、発行元が発行したキーではありません', fix: '他の発行元のキーではなく、ライセンス契約で受け取ったキーであることを確認してください。' },
  KEY_HOST_ON_CLIENT: { message: 'これはライセンス認証ホストのホスト キーです。クライアント コンピューターではなく、ライセンス認証ホストにインストールします', fix: '代わりにエディションの公開セットアップ キーをインストールしてください (volact authority catalog で一覧表示されます)。ホスト キーでライセンス認証できるホストは最大 6 台です。クライアントには使わないでください。' },
  KEY_WRONG_CLASS: { message: '{actual} キーはここでは使えません。{expected} キーが必要です', fix: '{expected} キーを使ってください。' },
  KEY_NOT_INSTALLED: { message: 'プロダクト キーがインストールされていません', fix: 'volact slmgr -ipk KEY でインストールしてください。' },
  CHANNEL_UNAVAILABLE: { message: '{class} キーは {channel} でライセンス認証しますが、このバージョンはまだ対応していません', fix: 'セットアップ キーとライセンス認証ホストを使ってください。' },
  KEY_LIMIT_HOSTS: { message: 'このホスト キーは、ライセンス認証できるホスト {limit} 台のうち {used} 台をすでにライセンス認証しています', fix: 'ライセンス認証済みのホストを使い続けるか、このキーのホスト数の上限を上げるよう発行元に申請してください (上限数の変更申請)。' },
  MAK_LIMIT: { message: 'この MAK はライセンス認証回数 {limit} 回のうち {used} 回を使用しています', fix: 'この MAK のライセンス認証回数を増やすよう発行元に申請するか (上限数の変更申請)、別の MAK を使ってください。' },
  NO_AUTHORITY: { message: 'オーソリティの URL が設定されていません (MAK によるライセンス認証と、ディレクトリのライセンス認証オブジェクトの作成に必要です)', fix: '設定してください: volact client trust ROOT.pub --authority URL (または VOLACT_AUTHORITY_URL。slmgr は --authority URL も受け付けます)。' },
  KEY_LIMIT_ACTIVATIONS: { message: 'このホスト キーはライセンス認証回数 {limit} 回のうち {used} 回を使用しています', fix: 'このキーのライセンス認証回数を増やすよう発行元に申請してください (上限数の変更申請)。' },

  // --- DNS publishing and discovery -------------------------------------------------------------
  DNS_TSIG_REJECTED: { message: 'DNS サーバー {server} が {domain} の TSIG 署名を拒否しました ({rcode}, {tsigError})', fix: '--tsig-key で指定するキーは、named.conf にあるこのホストのキーと同じ (同じ名前、hmac-sha256、同じシークレット) である必要があります。BADTIME は時刻の差が 5 分を超えていることを示します。' },
  DNS_UPDATE_REFUSED: { message: 'DNS サーバー {server} が {domain} の更新を拒否しました ({rcode})', fix: 'named.conf のゾーン {domain} で、このホストのキーに更新を許可してください: update-policy { grant KEY zonesub ANY; }; (または --dns-domain で正しいゾーンを指定してください)。' },
  DNS_UPDATE_FAILED: { message: '{server} での {domain} の更新に失敗しました: {detail}', fix: '--dns-server (ゾーンのプライマリ サーバーの host:port) と、そのサーバーが {domain} の権威サーバーであることを確認してください。ホストは間隔を延ばしながら再試行します。' },
  DNS_ANSWER_UNSIGNED: { message: '{server} からの {domain} の応答は、このホストの TSIG キーで署名されていません', fix: 'ホストと DNS サーバーの間で応答が書き換えられたか、キーを持つサーバーではありません。--dns-server を確認してください。' },
  NO_HOST_FOUND: { message: 'ライセンス認証ホストが見つかりません: {detail}', fix: 'volact slmgr -skms HOST[:PORT] でホストを固定するか、-skms-domain DOMAIN で検索するドメインを設定するか、DNS 管理者にドメインの _volact._tcp SRV レコードを依頼してください。' },

  // --- offline codes (installation and confirmation IDs) ----------------------------------------
  CODE_MALFORMED: { message: 'これは volact の {what} ではありません: {detail}', fix: '表示されたとおりに、ハイフンで区切った最大 8 文字のグループでコード全体を入力してください。' },
  CODE_BAD_CHARACTER: { message: '{what} のグループ {group} に、コードに使われない文字「{char}」があります', fix: 'コードに使われるのは 2-9 と英字 A C D E F G H J K L M N P Q R T U V W X Y だけです。グループ {group} を入力し直してください。' },
  CODE_GROUP_TYPO: { message: '{what} のグループ {group} ({text}) に入力の誤りがあります', fix: 'グループ {group} を元のものと見比べて、もう一度入力してください。ほかのグループは正しく入力されています。' },
  INSTALLATION_ID_INVALID: { message: 'このインストール ID は発行済みのキーのものではありません: {detail}', fix: 'お客様に volact slmgr -dti をもう一度実行して新しい ID を読み上げてもらってください。インストールされているキーが発行元の発行したものでない可能性があります。' },
  CONFIRMATION_MISMATCH: { message: 'この確認 ID は別のインストール ID に対して発行されたものです ({detail})', fix: 'このコンピューターが現在表示するインストール ID (volact slmgr -dti) をオーソリティに渡し、返された確認 ID を適用してください。' },
  CONFIRMATION_UNTRUSTED: { message: '確認 ID が、固定された発行元のキーで署名されていません: {detail}', fix: '確認 ID は自社の発行元から取得し、その最新のオフライン バンドルをインストールしてください (volact client trust volact-offline.json)。' },
  OFFLINE_BUNDLE_MISSING: { message: '{dir} にオフライン バンドルがインストールされていません', fix: '発行元のオフライン バンドルをここにコピーしてインストールしてください: volact client trust volact-offline.json (ホストでは volact host serve --root volact-offline.json)。' },

  // --- directory activation (LDAP) ----------------------------------------------------------------
  DIRECTORY_NOT_CONFIGURED: { message: 'このコンピューターにはディレクトリが設定されていません', fix: 'ディレクトリに参加させてください: volact client directory --ldap-url ldap://DC1,ldap://DC2 --ldap-base SUFFIX --bind-dn MACHINE-ACCOUNT-DN --password-file FILE (-ad-* と -ao-* コマンドもこれらのオプションを受け付けます)。' },
  DIRECTORY_UNREACHABLE: { message: 'どのディレクトリ サーバーも応答しませんでした: {detail}', fix: 'URL とネットワークを確認してください。社外にあるコンピューターのディレクトリによるライセンス認証は、180 日が過ぎるまで維持されます。' },
  DIRECTORY_ACTIVATION_KEPT: { message: '現在ディレクトリを読み取れませんでした ({detail})。{name} によるディレクトリのライセンス認証は {until} まで有効です', fix: '社外にいる間は対処不要です。コンピューターは次回の起動時と再試行間隔 (既定では 2 時間) ごとに、読み取れるまでディレクトリを読み直します。社内ネットワークでは、ここに示された原因を確認してください。' },
  DIRECTORY_BIND_REFUSED: { message: 'ディレクトリ {url} がアカウント {dn} を拒否しました ({detail})', fix: 'アカウントが削除または無効化されたか、パスワードが変更されています。ディレクトリ管理者に問い合わせるか、volact client directory --password-file FILE でパスワードを設定し直してください。' },
  DIRECTORY_PLAIN_BIND_REFUSED: { message: '{dn} のパスワードを {url} ({address}) に平文で送信することを拒否しました。サーバーは LDAPS も StartTLS も提供していません', fix: 'ldaps:// の URL を使うか、サーバーで StartTLS を有効にしてください (TLSCertificateFile)。信頼できるネットワークでのみ、--allow-plain-bind を指定できます。' },
  DIRECTORY_TLS_FAILED: { message: 'ディレクトリ {url} との TLS に失敗しました: {detail}', fix: 'ディレクトリ サーバーの証明書に署名した CA の証明書を指定し (volact client directory または slmgr -ad-*、-ao-* の --ldap-ca FILE)、URL にはその証明書に記載された名前またはアドレスを使ってください。' },
  DIRECTORY_SCHEMA_MISSING: { message: 'ディレクトリ {url} に volact のスキーマがありません (オブジェクト クラス volactActivationObject がありません)', fix: 'ディレクトリ管理者としてインストールしてください: ldapadd -Y EXTERNAL -H ldapi:/// -f ldap/volact.ldif (cn=config)、または slapd.conf で ldap/volact.schema を読み込んでください。docs/operations.md#directory-activation を参照してください。' },
  DIRECTORY_CONTAINER_MISSING: { message: 'コンテナー {dn} が存在せず、{bindDn} には作成する権限がありません ({detail})', fix: 'ディレクトリ管理者として作成してください: sed s/SUFFIX/YOUR-SUFFIX/ ldap/volact-containers.ldif | ldapadd -x -D ADMIN-DN -W' },
  DIRECTORY_READ_ONLY: { message: 'ディレクトリ サーバー {url} は読み取り専用のレプリカです。ライセンス認証オブジェクトは書き込み可能なサーバー {writable} にのみ書き込めます', fix: '書き込み可能なサーバーに対してコマンドを実行してください: --ldap-url {writable}。' },
  DIRECTORY_ACCESS_DENIED: { message: 'ディレクトリが {dn} に次の操作を許可していません: {what}', fix: 'ライセンス認証オブジェクトを作成・削除するには、volact-admins グループのメンバーとしてバインドしてください (ldap/volact-acl.conf)。' },
  DIRECTORY_OBJECT_NAME: { message: 'ライセンス認証オブジェクトの名前 {name} は使えません: {problem}', fix: '英数字、空白、. _ - を 1 から 40 文字で使ってください (例: office-2026)。' },
  DIRECTORY_OBJECT_EXISTS: { message: 'このディレクトリには {name} という名前のライセンス認証オブジェクトがすでにあります', fix: '別の名前を選ぶか、先に volact slmgr -del-ao {name} で古いオブジェクトを削除してください。' },
  DIRECTORY_OBJECT_UNKNOWN: { message: 'このディレクトリには {name} という名前のライセンス認証オブジェクトはありません', fix: 'volact slmgr -ao-list で一覧表示してください。' },
  DIRECTORY_OBJECT_FOREIGN: { message: 'ライセンス認証オブジェクト {name} は別のディレクトリ用に作成されたものです ({theirs}。このディレクトリは {ours})', fix: 'オブジェクトはディレクトリ間でコピーできません。volact slmgr -ad-activation-online HOST-KEY NAME でこのディレクトリ用に作成してください。' },
  DIRECTORY_OBJECT_INVALID: { message: 'ライセンス認証オブジェクト {name} が正しくありません: {detail}', fix: '削除して (volact slmgr -del-ao {name})、volact slmgr -ad-activation-online HOST-KEY NAME で新しく作成してください。' },
  DIRECTORY_NO_OBJECT: { message: 'ディレクトリにエディション {edition} のライセンス認証オブジェクトがありません: {detail}', fix: 'ディレクトリ管理者に作成を依頼するか (このエディションのホスト キーで volact slmgr -ad-activation-online HOST-KEY NAME)、このコンピューターでライセンス認証ホストを使ってください (volact slmgr -act-type 0)。' },

  // --- automatic VM activation (hypervisor agent and guests) -----------------------------------
  KEY_DATACENTER_ON_CLIENT: { message: 'これはデータセンター キーです。クライアント コンピューターではなく、ハイパーバイザー エージェントにインストールします', fix: '仮想マシンの中では、エディションの公開 VM キーをインストールしてください (volact authority catalog で一覧表示されます)。データセンター キーは仮想化ホストにインストールします: volact slmgr --hypervisor DIR -ipk KEY。' },
  HYPERVISOR_NOT_ACTIVATED: { message: 'ハイパーバイザー エージェントが発行元でライセンス認証されていません', fix: '仮想化ホストで volact slmgr --hypervisor DIR -ipk DATACENTER-KEY を実行し、続けて -ato を実行してください (オフラインでは -dti と -atp)。' },
  VM_INVALID_HOST: { message: '{address} のハイパーバイザー エージェントはこのゲストをライセンス認証できません (無効なホスト): {detail}', fix: '仮想化ホストのエージェントを、発行元のデータセンター キーでライセンス認証してください (volact slmgr --hypervisor DIR -ato)。ゲストは固定されたルートで認定されたエージェントだけを受け入れます。' },
  VM_INVALID_DATA: { message: '仮想マシンの自動ライセンス認証のデータが正しくありません: {detail}', fix: '要求または応答の形式が不正か、途中で書き換えられました。もう一度実行してください (volact slmgr -ato)。解決しない場合は、ゲストと仮想化ホストの volact を更新してください。' },
  VM_DENIED: { message: 'ハイパーバイザー エージェントがライセンス認証を拒否しました ({reason}): {detail}', fix: 'edition: エージェントのデータセンター キーがこのエディションを対象としていません (対象エディションの VM キーをインストールするか、このエディションを対象とするデータセンター キーをエージェントにインストールしてください)。inventory: エージェントのインベントリにこの UUID の VM がありません。interface: 要求がその VM のネットワーク インターフェイスから来ていません。ホスティング事業者は volact hypervisor guests と events ですべての要求を確認できます。' },
  NOT_A_VM: { message: '{address} で応答するハイパーバイザー エージェントがありません ({reason})。仮想マシンの自動ライセンス認証は、ライセンス認証済みの volact ハイパーバイザー上の仮想マシンでのみ機能します', fix: 'このコンピューターを、エージェントが実行中でライセンス認証済みの仮想化ホスト上のゲストとして、ネットワーク インターフェイスをゲスト ブリッジに接続して実行してください (volact hypervisor serve)。物理コンピューターでは、セットアップ キーまたは MAK を使ってください。' },
  VM_UUID_UNREADABLE: { message: '{file} からこのコンピューターの VM UUID を読み取れません: {reason}', fix: 'ライセンス認証を root として実行するか (SMBIOS の製品 UUID は root だけが読み取れます)、UUID を含むファイルを VOLACT_VM_UUID_FILE で指定してください。' },
  GROUP_NO_GUEST_EDITIONS: { message: '製品グループ {group} にはゲストとして実行できるエディションがないため、そのデータセンター キーでは何もライセンス認証できません', fix: 'カタログ ファイルでゲスト エディションに "guest": true を指定して再インポートするか (volact authority catalog で VM キーが一覧表示されます)、ゲスト エディションを持つ製品グループを指定してください。' },
  INVENTORY_UNAVAILABLE: { message: 'VM インベントリを読み取れません ({source}): {detail}', fix: 'インベントリを確認してください。--inventory static:FILE ではそのファイルの JSON (docs/operations.md#automatic-vm-activation)、libvirt ではこのユーザーで virsh が動くこと (virsh -c URI list --all) を確認してください。' },
  HYPERVISOR_ALREADY_RUNNING: { message: '{dir} ではすでにハイパーバイザー エージェントが実行されています', fix: '先にそれを停止してください。1 つの状態ディレクトリを使えるエージェント プロセスは 1 つだけです。' },
  HYPERVISOR_UNAVAILABLE: { message: '{dir} のハイパーバイザー エージェントが実行されていません (管理ソケットがありません)', fix: 'volact hypervisor serve --state {dir} で起動してください。' },

  // --- admin API ---------------------------------------------------------------------------------
  TOKEN_MISSING: { message: 'このエンドポイントにはベアラー トークンが必要です', fix: 'Authorization: Bearer TOKEN を送信してください。トークンはオーソリティでは volact authority token create --scope SCOPE、ライセンス認証ホストでは volact host token create で作成します。' },
  TOKEN_INVALID: { message: 'ベアラー トークンが有効ではありません (不明、失効済み、または形式が不正)', fix: 'トークンを確認するか、新しく作成してください。オーソリティでは volact authority token create、ライセンス認証ホストでは volact host token create で作れます。' },
  SESSION_EXPIRED: { message: 'コンソールのセッションは終了しています (ログアウト、時間切れ、またはトークンの失効)', fix: 'トークンでもう一度ログインしてください。' },
  CSRF_REFUSED: { message: 'この変更にはコンソール ページの CSRF トークンがありません', fix: 'コンソールを再読み込みしてからやり直してください。変更はコンソール ページからだけ受け付けます。' },
  CROSS_SITE_REFUSED: { message: 'ほかのサイト ({origin}) から送られた変更は拒否されます', fix: 'コンソール ページから操作してください。ほかのサイトはコンソールのセッションを使えません。' },
  TOKEN_SCOPE: { message: 'トークンのスコープは {scopes} ですが、この操作には {needed} が必要です', fix: '{needed} スコープを持つトークンを使ってください。オーソリティでは volact authority token create --scope {needed}、ライセンス認証ホストでは volact host token create --scope admin で作れます。' },
  INSECURE_URL: { message: '{address} への平文の HTTP でトークンを送信することを拒否しました', fix: 'オーソリティの https:// URL を使ってください。平文の HTTP は、このコンピューター上のオーソリティ (ループバック) にのみ使えます。' },
  TLS_REQUIRED: { message: '{address} で平文の HTTP を提供することを拒否しました', fix: '--tls-cert と --tls-key を指定するか、ループバック アドレスで待ち受けるか、このコンピューター上の TLS プロキシが TLS を終端する場合は --behind-tls-proxy を指定してください。' },

  // --- activation host answers ----------------------------------------------------------------
  COUNT_INSUFFICIENT: { message: 'ホストのカウントは {count} 台で、しきい値の {required} 台に達していません', fix: '対処は不要です。このコンピューターは {retryMinutes} 分ごとに再試行し、{required} 台が要求した時点でライセンス認証されます。' },
  EDITION_NOT_COVERED: { message: 'このライセンス認証ホストはエディション {edition} をライセンス認証できません。ホスト キーの対象は {groups} です', fix: 'このエディションを含む製品グループのホスト キーをホストにインストールするか、このコンピューターに別のホストを指定してください。' },
  CLOCK_SKEW: { message: 'このコンピューターの時刻はホストと {minutes} 分ずれています。許容されるのは最大 240 分です', fix: 'NTP などで、このコンピューター (またはホスト) の時刻を正しく設定してください。タイム ゾーンは関係ありません。' },
  HOST_NOT_ACTIVATED: { message: 'ライセンス認証ホストが発行元でライセンス認証されていません', fix: 'ホストで volact slmgr --host DIR -ipk HOST-KEY を実行し、続けて -ato を実行してください。' },
  NETWORK_NOT_SERVED: { message: 'このライセンス認証ホストは {address} のネットワークを対象としていません', fix: 'ホストの --serve-networks にネットワークを追加するか、自社ネットワークのホストを使ってください。' },
  NO_HOST: { message: 'このコンピューターにはライセンス認証ホストが設定されていません', fix: 'volact slmgr -skms HOST[:PORT] で設定してください。' },
  HOST_UNREACHABLE: { message: '{target} のライセンス認証ホストに接続できませんでした: {reason}', fix: 'ホストが実行中で、ポートが開いていることを確認してください (ホストで volact slmgr --host DIR -dlv)。' },
  AUTHORITY_UNREACHABLE: { message: '{target} のオーソリティに接続できませんでした: {reason}', fix: 'オーソリティの URL とネットワークを確認してください。ホストがオーソリティを必要とするのはライセンス認証のときだけです。' },
  REQUEST_UNKNOWN: { message: 'このキーには要求またはホスト {id} がありません', fix: 'ID を確認してください (発行元では volact authority requests で一覧表示されます)。' },
  REQUEST_DECIDED: { message: '要求 {id} はすでに {state} です', fix: '要求の判断は 1 回限りです。お客様は新しい要求を出せます。' },
  RATE_LIMITED: { message: '{what} からの要求が多すぎます。上限は 1 分あたり {limit} 件です', fix: '{retryAfter} 秒後にもう一度実行してください (Retry-After ヘッダーも同じ値です)。大量のライセンス認証を行うオペレーターはプロキシ ライセンス認証を使ってください。' },
  TOO_MANY_CONNECTIONS: { message: '{what} からの接続が多すぎます。上限は {limit} です', fix: '{retryAfter} 秒後にもう一度実行し、使っていない接続を閉じてください。プロキシや NAT の内側では、上限を上げるか (--max-connections-per-address)、0 にしてください。' },
  ADMIN_UNAVAILABLE: { message: '{dir} のライセンス認証ホストが実行されていません (管理ソケットがありません)', fix: 'volact host serve --state {dir} で起動してください。' },
  REARM_LIMIT: { message: 'このコンピューターの再初期化 (rearm) の残り回数はありません (最大 {limit} 回)', fix: '製品をインストールし直すか、再初期化ではなくライセンス認証を行ってください。' },
  AUTHORITY_EXISTS: { message: '{dir} にはすでにオーソリティがあります', fix: 'そのオーソリティを使うか、別の --dir を指定してください。既存のキーが上書きされることはありません。' },
  ROOT_KEY_OFFLINE: { message: 'ルートの秘密キー {path} がここにありません', fix: 'この手順のために root.key をオフラインの保管場所から戻し、終わったら再び移動してください。' },
  ROOT_MISMATCH: { message: '{path} には別の発行元のルートが固定されています', fix: '発行元が本当にルートを変更した場合は、先にそのファイルを削除してください。そうでなければ、以前に固定した root.pub を指定してください。' },
  PRIORITY_UNAVAILABLE: { message: 'ライセンス認証ホストの優先度を {priority} に設定できません ({reason})', fix: 'root 以外のプロセスは優先度を下げられますが、上げ直すことはできません。サービスに LimitNICE=+0 (packaging/systemd のユニットは設定済み) または CAP_SYS_NICE を与えるか、管理者として実行してください。設定は変更されていません。' },
  HOST_ALREADY_RUNNING: { message: '{dir} ではすでにライセンス認証ホストが実行されています', fix: '先にそれを停止してください。1 つの状態ディレクトリを使えるホスト プロセスは 1 つだけです (カウントはメモリにも保持されます)。' },
  STATE_UNAVAILABLE: { message: '状態ディレクトリ {dir} を使えません: {reason}', fix: 'ディレクトリが存在し、このユーザーが書き込めることを確認するか、別のディレクトリを指定してください (--state DIR。オーソリティでは --dir DIR)。' },
  FINGERPRINT_UNAVAILABLE: { message: 'このコンピューターの識別情報を読み取れません: {command}: {reason}', fix: 'そのコマンドを手動で実行して原因を確認してください。実行できない環境 (制限された PowerShell、サンドボックス) では、フィンガープリントをファイルで指定してください: VOLACT_FINGERPRINT_FILE (docs/operations.md の Machine ID and fingerprint)。' },
  PORT_UNAVAILABLE: { message: 'ポート {port} で待ち受けできません: {reason}', fix: '空いているポートを選ぶか、そのポートを使っているものを停止してください。ホストは以前のポートを使い続けます。' },
  NOT_READY: { message: '準備ができていません: {reason}', fix: '稼働状態 (/v1/health) は正常ですが、このロールはまだ役割を果たせません。示された原因を解消すると (ライセンス認証ホストでは volact slmgr --host DIR -ato、オーソリティではカタログのインポートとデータベースの確認)、再起動なしで準備完了になります。' },
  AUTHORITY_NOT_READY: { message: 'オーソリティが初期化されていません: {detail}', fix: 'volact authority init --dir DIR を実行し、カタログをインポートしてください。' },

  // --- trust (signed documents and the chain) ---------------------------------------------------
  ENVELOPE_MALFORMED: { message: '署名付きドキュメントの形式が正しくありません: {detail}', fix: '応答が破損しているか偽造されています。もう一度実行し、解決しない場合は報告してください。' },
  ENVELOPE_ALG: { message: 'ドキュメントはアルゴリズム {alg} で署名されています。受け付けるのは EdDSA だけです', fix: '応答が偽造されているか破損しています。正規の volact ホストを使ってください。' },
  DOCUMENT_TYPE: { message: '{expected} ドキュメントを期待しましたが、{actual} を受け取りました', fix: '応答が偽造されているか破損しています。正規の volact ホストを使ってください。' },
  DOCUMENT_VERSION: { message: 'ドキュメント {type} のバージョン {version} は、このバージョンの volact では読み取れません', fix: 'このコンピューターの volact を更新してください。' },
  DOCUMENT_INVALID: { message: '{type} ドキュメントの内容が正しくありません: {detail}', fix: '応答が偽造されているか破損しています。正規の volact ホストを使ってください。' },
  SIGNATURE_INVALID: { message: '{type} ドキュメントの署名を検証できません', fix: 'ドキュメントは署名後に変更されています。正規の volact ホストを使ってください。' },
  CHAIN_UNTRUSTED_ROOT: { message: '発行キー {kid} を認定しているのはルート {root} で、固定された発行元のルートではありません', fix: 'このホストは別の発行元のオーソリティでライセンス認証されています。自社の発行元のホストを使うか、正しいルートを固定してください。' },
  ISSUER_NOT_CERTIFIED: { message: '{type} ドキュメントに署名したキー {kid} は、認定された発行キーではありません', fix: 'このドキュメントは発行元が作成したものではありません。正規の volact ホストを使ってください。' },
  ISSUER_WRONG_PURPOSE: { message: '発行キー {kid} が署名できるのは {purpose} ドキュメントで、{needed} ではありません', fix: 'このドキュメントは発行元が作成したものではありません。正規の volact ホストを使ってください。' },
  ISSUER_EXPIRED: { message: '発行キー {kid} の有効期間は {notBefore} から {notAfter} までです', fix: '現在の発行キーによる証明書を取得するため、ホストのライセンス認証をやり直してください。' },
  ANSWER_MACHINE_MISMATCH: { message: '応答はコンピューター {theirs} 宛てで、このコンピューター ({ours}) 宛てではありません', fix: 'もう一度要求してください。解決しない場合はホストの動作に問題があります。' },
  ANSWER_REPLAYED: { message: '応答にこの要求のノンスが含まれていません (古い応答か、再送された応答です)', fix: 'もう一度要求してください。解決しない場合は、ホストとの間で何かが応答を再送しています。' },
  ANSWER_EDITION_NOT_CERTIFIED: { message: 'ホストがエディション {edition} を許可しましたが、ホストの証明書はそのエディションを対象としていません', fix: 'ホストの構成が誤っているか偽造されています。別のホストを使ってください。' },
  HOST_CERT_MISMATCH: { message: '証明書が応答に署名したキーのものではありません ({detail})', fix: 'ホストの構成が誤っているか偽造されています。別のホストを使ってください。' },
  ROOT_NOT_PINNED: { message: '{dir} に発行元のルート キーが固定されていません', fix: '固定してください: volact client trust ROOT.pub (発行元から受け取った root.pub)。' },

  // --- usage reports (a host's counts sent to the publisher) -----------------------------------
  USAGE_PERIOD_INVALID: { message: 'レポートの期間が正しくありません: {detail}', fix: '--from と --to は YYYY-MM または YYYY-MM-DD (UTC の日付。月を指定するとその月全体) で指定してください。--from は --to より後にできず、期間は最大 120 か月で、未来から始めることはできません。' },
  USAGE_REPORT_INVALID: { message: '使用状況レポートが正しくありません: {detail}', fix: 'volact host usage-report が書き出したとおりのファイルを顧客から受け取るか (署名後に変更されたレポートは検証に通りません)、新しいレポートを依頼してください。' },
  USAGE_REPORT_HOST_UNKNOWN: { message: '使用状況レポートはホスト {hostId} のものですが、このオーソリティはこのホストのライセンス認証をしていません', fix: 'そのホストのライセンス認証をしたオーソリティにアップロードしてください。証明書は当社のルートにつながっていますが、このオーソリティにはそのホスト キーでのライセンス認証の記録がありません (独自のデータベースを持つ別のノードか、ライセンス認証より前のバックアップから復元したデータベースです)。' },
  LOG_TAMPERED: { message: '{file} のホスト ログが変更されています: {kind} {seq} {problem} ({detail})', fix: 'host.db (-wal ファイルを含む) を証拠として保管し、バックアップと比較してください。各検出結果の意味は docs/operations.md#verifying-the-host-log にあります。ホストはサービスを続けます (カウントはログに依存しません)。' },
  LOG_KEY_MISMATCH: { message: '{file} のホストの鍵は、ホスト証明書に記載された鍵ではありません ({detail})', fix: 'ホスト自身の状態ディレクトリに対して verify-log を実行してください。host.key が置き換えられた場合は、バックアップから復元してください。' },
  LOG_UNAVAILABLE: { message: '{file} のホスト ログを検証できません: {detail}', fix: 'ホストの状態ディレクトリを指定してください (--state DIR)。古いバージョンで作成された host.db は、このバージョンの volact host serve が起動したときにチェーン化されます。' },

  // --- internal --------------------------------------------------------------------------------
  STATE_CORRUPT: { message: 'ローカルの状態 {file} を読み取れません: {detail}', fix: '{file} をバックアップから復元してください。ファイルごとの対処は docs/operations.md#damaged-state にあります (クライアントは volact slmgr -ato でライセンス認証をやり直すこともできます)。' },
  FAKE_CLOCK_REFUSED: { message: 'テスト モード以外でテスト用の時計が要求されました', fix: 'VOLACT_TEST_CLOCK を解除してください。テスト用の時計は NODE_ENV=test でのみ使えます。' },
  INTERNAL: { message: '内部エラーが発生しました (要求 {requestId})', fix: 'もう一度実行してください。解決しない場合は、要求 ID とログを添えて報告してください。' },
};
