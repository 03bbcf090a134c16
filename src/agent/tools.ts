/**
 * The tools the agent's code can call, described the way the system prompt lists them. The sandbox
 * implements them; these descriptions are what the model reads, rendered into `{{tools}}`.
 */
export interface ToolDescription {
  name: string;
  /** What the tool does and returns, in one or two sentences. */
  description: string;
  /** Parameters in call order. */
  parameters: { name: string; type: string; description: string }[];
  returns: string;
  /**
   * The return type in the reference's type vocabulary when it is not the plain translation of `returns`
   * (see {@link referenceToolObject}).
   */
  referenceOutputType?: ReferenceToolType;
}

/** `web_search(query: str) -> str` (METHOD §3: the name students were trained with). */
export const webSearchTool: ToolDescription = {
  name: 'web_search',
  description: 'Searches a Wikipedia-style passage index and returns the three most relevant passages, each with its title and a similarity score.',
  parameters: [{ name: 'query', type: 'str', description: 'what to look for, in a few words' }],
  returns: 'str',
};

/** `final_answer(answer)`: ends the episode with the answer. */
export const finalAnswerTool: ToolDescription = {
  name: 'final_answer',
  description: 'Gives the final answer to the task and ends it.',
  parameters: [{ name: 'answer', type: 'any', description: 'the answer; for math, an exact value' }],
  returns: 'None',
  // The reference's final_answer tool hands the answer back (output type `any`), where ours ends the episode.
  referenceOutputType: 'any',
};

export const defaultAgentTools: readonly ToolDescription[] = [webSearchTool, finalAnswerTool];

/** One entry per tool: its signature, then its description and parameters indented under it. */
export function renderToolList(tools: readonly ToolDescription[]): string {
  return tools
    .map((t) => {
      const signature = `${t.name}(${t.parameters.map((p) => `${p.name}: ${p.type}`).join(', ')}) -> ${t.returns}`;
      const params = t.parameters.map((p) => `\n    ${p.name}: ${p.description}`).join('');
      return `- ${signature}\n    ${t.description}${params}`;
    })
    .join('\n');
}

/** The type names the reference's tools use for inputs and outputs (a JSON-schema-like vocabulary). */
export type ReferenceToolType = 'string' | 'boolean' | 'integer' | 'number' | 'image' | 'audio' | 'array' | 'object' | 'any' | 'null';

const referenceTypeOf: Record<string, ReferenceToolType> = {
  str: 'string', int: 'integer', float: 'number', bool: 'boolean', any: 'any', None: 'null', list: 'array', dict: 'object',
};

/**
 * A tool the way the reference's `Tool` objects show themselves to a prompt template: `name`,
 * `description`, `inputs` (parameter name → `{type, description}`, in call order) and `output_type`.
 * Prompt YAMLs in the reference's format print these (`{{ tool.inputs }}` as a Python dict).
 */
export interface ReferenceToolObject {
  name: string;
  description: string;
  inputs: Record<string, { type: ReferenceToolType; description: string }>;
  output_type: ReferenceToolType;
}

function referenceType(type: string, where: string): ReferenceToolType {
  const mapped = referenceTypeOf[type];
  if (!mapped) throw new Error(`${where}: type "${type}" has no counterpart in the reference's tool types (known: ${Object.keys(referenceTypeOf).join(', ')})`);
  return mapped;
}

/** Our tool description in the reference's shape (our descriptions; the reference's type names). */
export function referenceToolObject(tool: ToolDescription): ReferenceToolObject {
  const inputs: ReferenceToolObject['inputs'] = {};
  for (const p of tool.parameters) inputs[p.name] = { type: referenceType(p.type, `tool ${tool.name}, parameter ${p.name}`), description: p.description };
  return { name: tool.name, description: tool.description, inputs, output_type: tool.referenceOutputType ?? referenceType(tool.returns, `tool ${tool.name}, return type`) };
}
