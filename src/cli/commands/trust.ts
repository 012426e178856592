/**
 * `airlock trust`: the keys a repository trusts to sign its bundles (add, list, remove), and the
 * fingerprint of a public key file, to compare it with the producer's by phone.
 */
import type { Argv } from 'yargs';
import {
  addTrustedKey,
  fingerprintOfFile,
  listTrustedKeys,
  removeTrustedKey,
  type RepositoryTrust,
} from '../../repo/trusted-keys.js';
import { Output } from '../output.js';
import { openRepo, repoOptions, type RepoArgs } from '../repo-options.js';
import { runCommand } from '../run-command.js';

interface KeyArgs {
  key: string;
  json: boolean;
}
interface RepoKeyArgs extends RepoArgs, KeyArgs {
  wait: boolean;
}
interface RemoveArgs extends RepoKeyArgs {
  reopen: boolean;
}
interface ListArgs extends RepoArgs {
  json: boolean;
}

const json = {
  type: 'boolean',
  default: false,
  describe: 'print one JSON summary on stdout',
} as const;
const wait = {
  type: 'boolean',
  default: false,
  describe: 'wait for a running import to finish instead of failing',
} as const;

export function trustCommand(y: Argv): Argv {
  return y.command('trust', 'the keys a repository trusts to sign bundles; key fingerprints', (t) =>
    t
      .command<RepoKeyArgs>(
        'add <key>',
        'trust KEY.pub to sign bundles for the repository (imports then refuse other keys and unsigned bundles)',
        (a) =>
          repoOptions(
            a
              .positional('key', { type: 'string', demandOption: true, describe: 'KEY.pub' })
              .option('wait', wait)
              .option('json', json),
          ) as unknown as Argv<RepoKeyArgs>,
        (args) =>
          runCommand(async () => {
            const out = new Output({ json: args.json });
            const storage = await openRepo(args);
            try {
              const r = await addTrustedKey(storage, args.key, { wait: args.wait });
              out.line(
                r.added
                  ? `${storage.location} now trusts ${r.key.fingerprint} (${args.key})`
                  : `${storage.location} already trusts ${r.key.fingerprint}: nothing to do`,
              );
              out.result({
                command: 'trust add',
                repo: storage.location,
                fingerprint: r.key.fingerprint,
                added: r.added,
                ...summary(r.trust),
              });
            } finally {
              await storage.close();
            }
          }),
      )
      .command<ListArgs>(
        'list',
        'list the fingerprints of the keys the repository trusts',
        (a) => repoOptions(a.option('json', json)) as unknown as Argv<ListArgs>,
        (args) =>
          runCommand(async () => {
            const out = new Output({ json: args.json });
            const storage = await openRepo(args);
            try {
              const trust = await listTrustedKeys(storage);
              if (trust.keys.length === 0) {
                out.line(
                  trust.requireSignature
                    ? `${storage.location} requires signed bundles but trusts no key yet: every import is refused`
                    : `${storage.location} trusts no key: it is open and accepts any bundle (airlock trust add KEY.pub --repo ...)`,
                );
              }
              for (const key of trust.keys) out.line(key.fingerprint);
              out.result({ command: 'trust list', repo: storage.location, ...summary(trust) });
            } finally {
              await storage.close();
            }
          }),
      )
      .command<RemoveArgs>(
        'remove <key>',
        'stop trusting a key (give its fingerprint or its KEY.pub)',
        (a) =>
          repoOptions(
            a
              .positional('key', {
                type: 'string',
                demandOption: true,
                describe: 'SHA256:… fingerprint or KEY.pub',
              })
              .option('reopen', {
                type: 'boolean',
                default: false,
                describe: 'allow removing the last key (the repository then accepts any bundle)',
              })
              .option('wait', wait)
              .option('json', json),
          ) as unknown as Argv<RemoveArgs>,
        (args) =>
          runCommand(async () => {
            const out = new Output({ json: args.json });
            const storage = await openRepo(args);
            try {
              const r = await removeTrustedKey(storage, args.key, {
                wait: args.wait,
                reopen: args.reopen,
              });
              out.line(`${storage.location} no longer trusts ${r.key.fingerprint}`);
              if (r.trust.open)
                out.warn(`${storage.location} now trusts no key: it accepts any bundle`);
              out.result({
                command: 'trust remove',
                repo: storage.location,
                fingerprint: r.key.fingerprint,
                ...summary(r.trust),
              });
            } finally {
              await storage.close();
            }
          }),
      )
      .command<KeyArgs>(
        'fingerprint <key>',
        'print the fingerprint of a public key (SHA256:…), to compare with the producer by phone',
        (a) =>
          a
            .positional('key', { type: 'string', demandOption: true, describe: 'KEY.pub' })
            .option('json', json) as unknown as Argv<KeyArgs>,
        (args) =>
          runCommand(async () => {
            const out = new Output({ json: args.json });
            const key = await fingerprintOfFile(args.key);
            out.line(`${key.fingerprint}  ${args.key}`);
            out.result({
              command: 'trust fingerprint',
              key: args.key,
              fingerprint: key.fingerprint,
            });
          }),
      )
      .demandCommand(1, 'say what to do: add, list, remove or fingerprint'),
  );
}

function summary(trust: RepositoryTrust): { open: boolean; trustedKeys: string[] } {
  return { open: trust.open, trustedKeys: trust.keys.map((k) => k.fingerprint) };
}
