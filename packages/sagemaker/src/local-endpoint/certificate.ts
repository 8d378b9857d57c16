import { generateKeyPairSync } from "node:crypto";
import { generate } from "selfsigned";

/** A certificate and its private key (PEM). */
export interface LocalCertificate {
  readonly cert: string;
  readonly key: string;
}

/**
 * A self-signed certificate for `localhost` and `127.0.0.1`, valid for a year, generated at
 * start so nothing secret ships with the package. The key pair comes from `node:crypto`
 * (native, fast); `selfsigned` builds and signs the X.509 certificate, which Node has no
 * API for.
 */
export async function generateLocalCertificate(): Promise<LocalCertificate> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const pems = await generate([{ name: "commonName", value: "localhost" }], {
    keyPair: { privateKey, publicKey },
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: privateKey };
}
