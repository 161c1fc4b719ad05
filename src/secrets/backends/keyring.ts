/**
 * The OS keyring for local development (@napi-rs/keyring): macOS Keychain, Windows Credential
 * Manager, Secret Service (gnome-keyring, KWallet) on Linux. Logical name `openai` is the entry
 * service `keygate`, account `openai`.
 */
import { AsyncEntry, findCredentialsAsync, type LinuxStore } from '@napi-rs/keyring';
import { SecretString } from '../../crypto/secret-string.js';
import { assertSecretName, type SecretBackend, type SecretBackendCapabilities } from '../backend.js';
import { SecretBackendError, SecretNotFoundError, describeCause, type SecretOperation } from '../errors.js';

export interface KeyringBackendOptions {
  /** Keyring service name, default `keygate`. */
  service?: string;
  /**
   * Linux only. By default the library falls back from Secret Service to the kernel keyring
   * (keyutils, lost at logout/reboot); pin 'secret-service' to refuse that fallback.
   */
  linuxStore?: LinuxStore;
}

export class KeyringBackend implements SecretBackend {
  readonly name = 'keyring';
  readonly capabilities: SecretBackendCapabilities = { read: true, write: true, delete: true, list: true };
  readonly #service: string;
  readonly #store: LinuxStore | undefined;

  constructor(opts: KeyringBackendOptions = {}) {
    this.#service = opts.service ?? 'keygate';
    this.#store = opts.linuxStore;
  }

  #entry(name: string): AsyncEntry {
    return new AsyncEntry(this.#service, name, this.#store ? { linux: { store: this.#store } } : undefined);
  }

  async get(name: string): Promise<SecretString> {
    assertSecretName(name);
    let value: string | null;
    try {
      value = await this.#entry(name).getPassword();
    } catch (err) {
      throw this.#wrap(err, 'get', name);
    }
    if (value === null) throw new SecretNotFoundError(this.name, name);
    return SecretString.from(value);
  }

  async put(name: string, value: SecretString): Promise<void> {
    assertSecretName(name);
    try {
      await value.use((plain) => this.#entry(name).setPassword(plain));
    } catch (err) {
      throw this.#wrap(err, 'put', name, value);
    }
  }

  async delete(name: string): Promise<void> {
    assertSecretName(name);
    let deleted: boolean;
    try {
      deleted = await this.#entry(name).deletePassword();
    } catch (err) {
      throw this.#wrap(err, 'delete', name);
    }
    if (!deleted) throw new SecretNotFoundError(this.name, name);
  }

  async list(): Promise<string[]> {
    try {
      // findCredentials also returns the passwords; only the account names are kept.
      const creds = await findCredentialsAsync(this.#service);
      return [...new Set(creds.map((c) => c.account))].sort();
    } catch (err) {
      throw this.#wrap(err, 'list');
    }
  }

  async validate(): Promise<void> {
    await this.list();
  }

  #wrap(err: unknown, op: SecretOperation, name?: string, value?: SecretString): SecretBackendError {
    const secrets = value ? [value.reveal()] : [];
    const hint =
      process.platform === 'linux'
        ? ' (is a Secret Service such as gnome-keyring running and unlocked on the session bus, DBUS_SESSION_BUS_ADDRESS?)'
        : '';
    return new SecretBackendError(this.name, op, `${describeCause(err, secrets)}${hint}`, { secretName: name, code: 'keyring', secrets });
  }
}
