/**
 * A listener's access logs as the rest of the program sees them (proxyctl.yaml(5),
 * `listeners[].accessLog`). Present on a listener only when its file lists at least one.
 */
export interface AccessLogConfig {
  /** Absolute: a relative path in the file was resolved against the config file's directory. */
  readonly path: string;
  /**
   * A text format (one line; proxyctl adds the newline), or null when `json` is set. When the
   * file gives neither, the listener protocol's default format is filled in.
   */
  readonly format: string | null;
  /** A JSON object per line: each key's value is a format rendered as a JSON string; or null. */
  readonly json: Readonly<Record<string, string>> | null;
}
