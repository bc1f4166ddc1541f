export function Shortcuts({ onClose }: { onClose: () => void }) {
  const rows: [string, string][] = [
    ["/", "Search things"],
    ["j / ↓", "Next thing"],
    ["k / ↑", "Previous thing"],
    ["Enter", "Open the selected thing"],
    ["Esc", "Back (close a dialog, leave a thing)"],
    ["?", "This help"],
  ];
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: a click outside closes the help; Esc closes it from the keyboard (the shortcut registry)
    // biome-ignore lint/a11y/useKeyWithClickEvents: Esc is the keyboard equivalent
    <div className="modal-backdrop" onClick={onClose}>
      {/* biome-ignore lint/a11y/useKeyWithClickEvents: only stops a click inside from closing the help */}
      <div className="modal" role="dialog" aria-label="Keyboard shortcuts" data-testid="shortcuts" onClick={(e) => e.stopPropagation()}>
        <h2>Keyboard shortcuts</h2>
        <table>
          <tbody>
            {rows.map(([k, v]) => (
              <tr key={k}>
                <td>
                  <kbd>{k}</kbd>
                </td>
                <td>{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
