// The panel's form controls. This folder alone imports @vscode/webview-ui-toolkit (archived in
// 2025): swapping to @vscode-elements/elements means rewriting this file only.
import { provideVSCodeDesignSystem, vsCodeButton, vsCodeDropdown, vsCodeOption } from '@vscode/webview-ui-toolkit';

provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeDropdown(), vsCodeOption());

export interface Choice {
  value: string;
  label: string;
}

export interface Dropdown {
  element: HTMLElement;
  /** Replaces the options and selects `value`, without firing the change callback. */
  set(choices: readonly Choice[], value: string): void;
}

export function createDropdown(testId: string, label: string, onChange: (value: string) => void): Dropdown {
  const el = document.createElement('vscode-dropdown') as HTMLElement & { value: string };
  el.dataset.testid = testId;
  el.setAttribute('aria-label', label);
  let quiet = false;
  el.addEventListener('change', () => {
    if (!quiet) onChange(el.value);
  });
  let shown = '';
  return {
    element: el,
    set(choices, value): void {
      quiet = true;
      const key = JSON.stringify(choices);
      if (key !== shown) {
        shown = key;
        el.replaceChildren(
          ...choices.map((c) => {
            const opt = document.createElement('vscode-option');
            opt.setAttribute('value', c.value);
            opt.textContent = c.label;
            return opt;
          }),
        );
      }
      // The toolkit settles its options asynchronously; set the value once it has.
      queueMicrotask(() => {
        el.value = value;
        quiet = false;
      });
    },
  };
}

export function createButton(testId: string, label: string, onClick: () => void): HTMLElement {
  const el = document.createElement('vscode-button');
  el.dataset.testid = testId;
  el.setAttribute('appearance', 'secondary');
  el.textContent = label;
  el.addEventListener('click', onClick);
  return el;
}
