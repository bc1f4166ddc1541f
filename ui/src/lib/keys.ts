// What a key press means, wherever the focus is.

export type KeyAction = "search" | "down" | "up" | "open" | "back" | "help" | null;

/** What a key press means; keys typed into a text field are the field's, except Esc. */
export function keyAction(key: string, inField: boolean, modifiers = false): KeyAction {
  if (modifiers) return null;
  if (key === "Escape") return "back";
  if (inField) return null;
  switch (key) {
    case "/":
      return "search";
    case "j":
    case "ArrowDown":
      return "down";
    case "k":
    case "ArrowUp":
      return "up";
    case "Enter":
      return "open";
    case "?":
      return "help";
    default:
      return null;
  }
}
