/**
 * Test certificates, made at run time with the `openssl` CLI in a temporary folder: a
 * root CA the clients trust, a leaf it signs for `localhost` and `127.0.0.1`, and a
 * second leaf signed by an intermediate CA (to check `tls.ca`), plus an encrypted copy of
 * the first key (to check `tls.passphrase`). Leaves are not CAs: rustls (Deno's client)
 * refuses a self-signed CA certificate used as a server's certificate.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCerts {
  /** The folder holding every file below. */
  readonly dir: string;
  /** The root CA (PEM) and its file: what clients trust. */
  readonly ca: string;
  readonly caPath: string;
  /** The leaf the root signs, its key, and their files. */
  readonly cert: string;
  readonly key: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** `key`, encrypted with `passphrase`, and its file. */
  readonly encryptedKey: string;
  readonly encryptedKeyPath: string;
  readonly passphrase: string;
  /** A leaf the intermediate signs, its key, and the intermediate (all PEM). */
  readonly chainedCert: string;
  readonly chainedKey: string;
  readonly intermediate: string;
  /** Deletes the folder. */
  remove(): void;
}

const LEAF_EXT = [
  "subjectAltName=DNS:localhost,IP:127.0.0.1",
  "basicConstraints=critical,CA:FALSE",
  "keyUsage=critical,digitalSignature",
  "extendedKeyUsage=serverAuth",
].join("\n");
const CA_EXT = [
  "basicConstraints=critical,CA:TRUE",
  "keyUsage=critical,keyCertSign,cRLSign",
  "subjectKeyIdentifier=hash",
  "authorityKeyIdentifier=keyid:always",
].join("\n");

/** Makes the certificates; throws when `openssl` is missing. */
export function makeCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), "wsx-tls-"));
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  writeFileSync(at("leaf.ext"), LEAF_EXT);
  writeFileSync(at("ca.ext"), CA_EXT);
  const newKey = (name: string) =>
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name);
  const sign = (csrKey: string, cn: string, issuer: string, issuerKey: string, ext: string) => {
    const base = csrKey.replace(".key", "");
    openssl("req", "-new", "-key", csrKey, "-subj", `/CN=${cn}`, "-out", `${base}.csr`);
    openssl(
      "x509",
      "-req",
      "-in",
      `${base}.csr`,
      "-CA",
      issuer,
      "-CAkey",
      issuerKey,
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      ext,
      "-out",
      `${base}.pem`,
    );
  };
  newKey("root.key");
  openssl(
    ...["req", "-x509", "-new", "-key", "root.key", "-subj", "/CN=wsx test root CA"],
    ...["-days", "2", "-addext", "basicConstraints=critical,CA:TRUE"],
    ...["-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "root.pem"],
  );
  newKey("leaf.key");
  sign("leaf.key", "localhost", "root.pem", "root.key", "leaf.ext");
  newKey("inter.key");
  sign("inter.key", "wsx test intermediate CA", "root.pem", "root.key", "ca.ext");
  newKey("chained.key");
  sign("chained.key", "localhost", "inter.pem", "inter.key", "leaf.ext");
  const passphrase = "wsx-test-passphrase";
  openssl(
    ...["pkey", "-in", "leaf.key", "-aes-256-cbc", "-passout", `pass:${passphrase}`],
    ...["-out", "leaf_encrypted.key"],
  );
  const read = (name: string) => readFileSync(at(name), "utf8");
  return {
    dir,
    ca: read("root.pem"),
    caPath: at("root.pem"),
    cert: read("leaf.pem"),
    key: read("leaf.key"),
    certPath: at("leaf.pem"),
    keyPath: at("leaf.key"),
    encryptedKey: read("leaf_encrypted.key"),
    encryptedKeyPath: at("leaf_encrypted.key"),
    passphrase,
    chainedCert: read("chained.pem"),
    chainedKey: read("chained.key"),
    intermediate: read("inter.pem"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
