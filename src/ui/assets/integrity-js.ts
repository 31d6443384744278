/** Polls a running "verify now" job and updates its progress bar; reloads the page when it ends. */
export const INTEGRITY_JS = `(() => {
  'use strict';
  const box = document.getElementById('verify');
  const url = box && box.getAttribute('data-job');
  if (!url) return;
  const bar = document.getElementById('verify-progress');
  const count = document.getElementById('verify-count');
  const poll = async () => {
    try {
      const response = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      if (!response.ok) return;
      const job = await response.json();
      if (bar) { bar.max = Math.max(job.total, 1); bar.value = job.checked; }
      if (count) count.textContent = job.checked + ' / ' + job.total;
      if (job.state !== 'running') { window.location.reload(); return; }
    } catch (e) { /* try again */ }
    setTimeout(poll, 500);
  };
  setTimeout(poll, 300);
})();
`;
