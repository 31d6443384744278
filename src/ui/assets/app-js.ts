/**
 * Progressive enhancement for every page (the pages work without it): j/k and arrow keys move through
 * the event rows and Enter opens one, `/` focuses the text filter, selects marked `data-autosubmit`
 * submit their form, empty filter fields are left out of the URL.
 */
export const APP_JS = `(() => {
  'use strict';
  const rows = () => Array.from(document.querySelectorAll('table[data-keyboard-rows] tbody tr'));
  let index = -1;
  const select = (i) => {
    const all = rows();
    if (all.length === 0) return;
    index = Math.max(0, Math.min(all.length - 1, i));
    all.forEach((r, j) => r.classList.toggle('selected', j === index));
    const link = all[index].querySelector('a.row-link');
    if (link) link.focus();
  };
  document.addEventListener('keydown', (event) => {
    const target = event.target;
    const typing = target instanceof HTMLInputElement || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement;
    if (typing || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === 'j' || (event.key === 'ArrowDown' && index >= 0)) { select(index + 1); event.preventDefault(); }
    else if (event.key === 'k' || (event.key === 'ArrowUp' && index >= 0)) { select(index - 1); event.preventDefault(); }
    else if (event.key === '/') {
      const search = document.getElementById('f-q');
      if (search) { search.focus(); event.preventDefault(); }
    }
  });
  for (const el of document.querySelectorAll('select[data-autosubmit]')) {
    el.addEventListener('change', () => el.form && el.form.requestSubmit());
  }
  // On a phone the filter form would push the results off the screen: fold it unless a filter is set.
  const panel = document.querySelector('details.filter-panel');
  if (panel && !panel.hasAttribute('data-active') && window.matchMedia('(max-width: 700px)').matches) panel.open = false;
  const filters = document.querySelector('form.filters');
  if (filters) {
    filters.addEventListener('submit', () => {
      for (const input of filters.querySelectorAll('input, select')) {
        if ((input.type !== 'checkbox') && input.value === '') input.disabled = true;
      }
    });
  }
})();
`;
