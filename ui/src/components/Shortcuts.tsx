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
    <div className="modal-backdrop" onClick={onClose}>
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
        <button onClick={onClose}>Close</button>
      </div>
    </div>
  );
}
