// Announcement banners (issue 6: status): dismiss in place. Without this module the dismiss form posts and
// the page comes back without the banner; with it the same POST is sent by fetch and the banner removed.
for (const form of document.querySelectorAll("form.status-dismiss")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const response = await fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    });
    if (response.ok) {
      form.closest(".status-banner").remove();
    } else {
      form.submit();
    }
  });
}
