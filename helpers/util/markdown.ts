// Text as one markdown table cell: a pipe would end the cell and a newline the row; `width` cuts a long text short.
export function cell(text: string, width = Infinity): string {
  const short = text.length > width ? `${text.slice(0, width - 1)}…` : text;
  return short.replaceAll("|", "\\|").replaceAll("\n", " ");
}
