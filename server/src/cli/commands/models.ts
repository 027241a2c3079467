/** `glomseg models list | default <id> | rollback [id]`: a server's models and versions, and which is the default. */
import { modelFromProto } from '@glomseg/api/client/from-proto.js';
import type { ModelSummary } from '@glomseg/shared/glomseg-service.js';
import { addRemoteServerOptions, withRemoteServer, type RemoteServerFlags } from '../remote-server.js';
import { UsageError, type CliCommand } from './command.js';

interface Adaptation {
  parent?: string;
  date?: string;
  heldOutBefore?: { meanImageDice: number; f1: number };
  heldOutAfter?: { meanImageDice: number; f1: number };
}

const adaptationOf = (model: ModelSummary) =>
  (model.card.provenance as { adaptation?: Adaptation } | undefined)?.adaptation;

export const modelsCommand: CliCommand = (program) => {
  const models = program.command('models').description("a server's models and versions, and its default model");
  addRemoteServerOptions(models.command('list').description('the models and versions, the default marked'))
    .option('--json', 'one JSON object a model')
    .action((flags: RemoteServerFlags & { json?: boolean }) => list(flags));
  addRemoteServerOptions(models.command('default').description('make a model the default for calls that name none'))
    .argument('<id>', 'model id')
    .action((id: string, flags: RemoteServerFlags) => setDefault(flags, id));
  addRemoteServerOptions(
    models
      .command('rollback')
      .description('make an older version the default (without an id: the parent of the current default)'),
  )
    .argument('[id]', 'the version to go back to')
    .action((id: string | undefined, flags: RemoteServerFlags) => setDefault(flags, id, true));
};

async function listed(api: Parameters<Parameters<typeof withRemoteServer>[1]>[0]['api']): Promise<ModelSummary[]> {
  return (await api.listModels({})).models.map(modelFromProto);
}

async function list(flags: RemoteServerFlags & { json?: boolean }): Promise<void> {
  await withRemoteServer(flags, async ({ api }) => {
    for (const model of await listed(api)) {
      const adaptation = adaptationOf(model);
      if (flags.json) {
        const { id, name } = model.card;
        process.stdout.write(`${JSON.stringify({ id, name, isDefault: model.isDefault, adaptation })}\n`);
        continue;
      }
      const figures =
        adaptation?.heldOutBefore && adaptation.heldOutAfter
          ? `  held-out Dice ${adaptation.heldOutBefore.meanImageDice.toFixed(3)} -> ${adaptation.heldOutAfter.meanImageDice.toFixed(3)}, F1 ${adaptation.heldOutBefore.f1.toFixed(3)} -> ${adaptation.heldOutAfter.f1.toFixed(3)}`
          : '';
      const parent = adaptation?.parent ? `  from ${adaptation.parent}` : '';
      process.stdout.write(`${model.isDefault ? '*' : ' '} ${model.card.id}  ${model.card.name}${parent}${figures}\n`);
    }
  });
}

async function setDefault(flags: RemoteServerFlags, id: string | undefined, rollback = false): Promise<void> {
  await withRemoteServer(flags, async ({ api }) => {
    let target = id;
    if (target === undefined) {
      const current = (await listed(api)).find((m) => m.isDefault);
      target = current && adaptationOf(current)?.parent;
      if (!target)
        throw new UsageError(
          `the default model ${current?.card.id ?? ''} is no adapted version: name the model to go back to`,
        );
    }
    const { model, previousId } = await api.setDefaultModel({ modelId: target });
    const verb = rollback ? 'rolled back' : 'default';
    process.stdout.write(`${verb}: ${model?.id} is the default model now (was ${previousId})\n`);
  });
}
