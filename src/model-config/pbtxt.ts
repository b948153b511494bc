/**
 * A reader for protobuf text format, the syntax of Triton's config.pbtxt. It knows no schema:
 * every field becomes a list of values, because text format cannot tell a repeated field
 * written once from a singular one. model-config.ts gives the fields their meaning.
 */

export type PbValue = string | number | boolean | PbMessage;
export interface PbMessage {
  [field: string]: PbValue[];
}

export class PbtxtSyntaxError extends Error {
  constructor(message: string, line: number) {
    super(`line ${line}: ${message}`);
    this.name = 'PbtxtSyntaxError';
  }
}

type Token =
  | { kind: 'punct'; text: string; line: number }
  | { kind: 'ident'; text: string; line: number }
  | { kind: 'number'; value: number; line: number }
  | { kind: 'string'; value: string; line: number };

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', "'": "'", '\\': '\\' };

function* tokenize(text: string): Generator<Token> {
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') line++;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if ('{}[]:,;<>'.includes(c)) {
      yield { kind: 'punct', text: c, line };
      i++;
    } else if (c === '"' || c === "'") {
      let value = '';
      i++;
      while (text[i] !== c) {
        if (i >= text.length || text[i] === '\n') throw new PbtxtSyntaxError('unterminated string', line);
        if (text[i] === '\\') {
          i++;
          value += ESCAPES[text[i]!] ?? text[i];
        } else {
          value += text[i];
        }
        i++;
      }
      i++;
      yield { kind: 'string', value, line };
    } else {
      const m = /^[-+]?(?:inf|nan|0x[0-9a-f]+|\d*\.?\d+(?:e[-+]?\d+)?f?)(?![\w.])/i.exec(text.slice(i, i + 64));
      if (m) {
        yield { kind: 'number', value: parseNumber(m[0]), line };
        i += m[0].length;
        continue;
      }
      const id = /^[A-Za-z_][\w.]*/.exec(text.slice(i, i + 256));
      if (!id) throw new PbtxtSyntaxError(`unexpected character '${c}'`, line);
      yield { kind: 'ident', text: id[0], line };
      i += id[0].length;
    }
  }
}

function parseNumber(text: string): number {
  const t = text.toLowerCase().replace(/f$/, '');
  if (t.endsWith('inf')) return t.startsWith('-') ? -Infinity : Infinity;
  if (t.endsWith('nan')) return NaN;
  return t.includes('0x') ? parseInt(t, 16) : Number(t);
}

class Parser {
  private readonly tokens: Token[];
  private pos = 0;

  constructor(text: string) {
    this.tokens = [...tokenize(text)];
  }

  parseMessage(close?: string): PbMessage {
    const message: PbMessage = {};
    for (;;) {
      const token = this.tokens[this.pos];
      if (!token) {
        if (close) throw new PbtxtSyntaxError(`missing '${close}'`, this.tokens.at(-1)?.line ?? 1);
        return message;
      }
      if (token.kind === 'punct' && token.text === close) {
        this.pos++;
        return message;
      }
      if (token.kind !== 'ident') throw new PbtxtSyntaxError('expected a field name', token.line);
      this.pos++;
      const values = this.parseFieldValue();
      (message[token.text] ??= []).push(...values);
      this.skip(',', ';');
    }
  }

  private parseFieldValue(): PbValue[] {
    const hasColon = this.skip(':');
    const token = this.next();
    if (token.kind === 'punct' && (token.text === '{' || token.text === '<')) {
      return [this.parseMessage(token.text === '{' ? '}' : '>')];
    }
    // A list of messages may omit the colon: `instance_group [ { count: 1 } ]`.
    if (token.kind === 'punct' && token.text === '[') return this.parseList();
    if (!hasColon) throw new PbtxtSyntaxError("expected ':' or '{'", token.line);
    return [this.scalar(token)];
  }

  private parseList(): PbValue[] {
    const values: PbValue[] = [];
    if (this.skip(']')) return values;
    for (;;) {
      const token = this.next();
      if (token.kind === 'punct' && (token.text === '{' || token.text === '<')) {
        values.push(this.parseMessage(token.text === '{' ? '}' : '>'));
      } else {
        values.push(this.scalar(token));
      }
      if (this.skip(']')) return values;
      if (!this.skip(',')) throw new PbtxtSyntaxError("expected ',' or ']'", this.tokens[this.pos]?.line ?? token.line);
    }
  }

  private scalar(token: Token): PbValue {
    if (token.kind === 'number') return token.value;
    if (token.kind === 'string') {
      // Adjacent string literals concatenate, as in protobuf.
      let value = token.value;
      while (this.tokens[this.pos]?.kind === 'string') value += (this.next() as { value: string }).value;
      return value;
    }
    if (token.kind === 'ident') {
      if (token.text === 'true' || token.text === 'True') return true;
      if (token.text === 'false' || token.text === 'False') return false;
      return token.text;
    }
    throw new PbtxtSyntaxError(`unexpected '${token.text}'`, token.line);
  }

  private next(): Token {
    const token = this.tokens[this.pos++];
    if (!token) throw new PbtxtSyntaxError('unexpected end of file', this.tokens.at(-1)?.line ?? 1);
    return token;
  }

  private skip(...texts: string[]): boolean {
    const token = this.tokens[this.pos];
    if (token?.kind === 'punct' && texts.includes(token.text)) {
      this.pos++;
      return true;
    }
    return false;
  }
}

export function parsePbtxt(text: string): PbMessage {
  return new Parser(text).parseMessage();
}
