"""For leaders: sync the library now, watch it, see how each file was understood and correct any of them.

Progress arrives through the event hub and updates the existing bar and labels in place (no rebuilds),
so watching a sync costs the server almost nothing.
"""

from __future__ import annotations

from urllib.parse import quote

from nicegui import APIRouter, background_tasks, ui

from components.guard import leader_page
from components.layout import page_frame
from components.library_files import FilesView
from components.live import listen
from soleil_ui.access import Actor
from soleil_ui.events import Event
from soleil_ui.services import library_admin, library_source
from soleil_ui.services.sync import SyncProgress
from soleil_ui.settings import get_settings
from soleil_ui.sources.drive import parse_folder_id
from soleil_ui.sources.factory import service_account_email

router = APIRouter()




def _summary(p: SyncProgress) -> str:
    if p.running:
        return f"{p.phase.capitalize()}… {p.done} of {p.total} files"
    if p.phase == "failed":
        return f"Sync failed: {p.error}"
    if p.phase == "done":
        return (f"Last sync: {p.total} files — {p.added} new, {p.updated} changed, {p.removed} removed, "
                f"{p.broken} can't be read, {p.unsorted} unsorted ({p.seconds:.1f} s)")
    return "Not synced since the server started."


@router.page("/library/files")
@leader_page
async def library_files_page(actor: Actor) -> None:
    with page_frame(actor, "Library files", active="Library", back="/library"):
        progress = await library_admin.sync_progress(actor)
        @ui.refreshable
        async def source_card() -> None:
            source = await library_admin.current_source(actor)
            with ui.card().classes("w-full").props("flat bordered"):
                ui.label("Where the charts come from").classes("font-medium")
                if source is None:
                    ui.label("No folder connected yet.").classes("text-grey-8")
                elif source.kind == "drive":
                    ui.link("Google Drive folder", f"https://drive.google.com/drive/folders/{source.location}",
                            new_tab=True)
                else:
                    ui.label(f"Folder on the server: {source.location}").classes("text-sm break-all")
                if source is not None and source.last_error:
                    ui.label(source.last_error).classes("text-negative text-sm")
                sa_email = service_account_email()
                google = get_settings().google_configured
                proof_file = library_admin.verification_file_name(actor)
                if library_source.needs_verification(source):
                    with ui.column().classes("w-full gap-1 bg-amber-1 q-pa-sm rounded-borders"):
                        ui.label("Please verify that this Drive folder is the band's.").classes("font-medium")
                        ui.label(f"It keeps syncing for now. Put a file named {proof_file} in the folder (an empty "
                                 "file is enough), then check it; or verify with your Google account.") \
                            .classes("text-sm break-all")
                        with ui.row().classes("gap-2"):
                            ui.button("Check the verification file", icon="verified",
                                      on_click=lambda: verify_by_file()).props("unelevated")
                            if google:
                                ui.button("Verify with my Google account", icon="login",
                                          on_click=lambda: ui.navigate.to("/auth/drive/verify")).props("outline")
                elif source is not None and source.kind == "drive":
                    ui.label("Verified as the band's folder.").classes("text-xs text-positive")
                folder = ui.input("Drive folder link or id", placeholder="https://drive.google.com/drive/folders/…") \
                    .props("outlined clearable maxlength=500").classes("w-full")
                with ui.row().classes("gap-2"):
                    if sa_email:
                        ui.button("Connect", icon="link", on_click=lambda: connect(folder.value or "")).props(
                            "unelevated")
                        if google:
                            ui.button("Verify with my Google account and connect", icon="verified_user",
                                      on_click=lambda: prove(folder.value or "")).props("outline")
                    if google:
                        ui.button("Connect with my Google account", icon="login",
                                  on_click=lambda: consent(folder.value or "")).props("outline")
                if sa_email:
                    ui.label(f"Share the folder (Viewer is enough) with {sa_email} and put a file named {proof_file} "
                             "in it (it shows the folder is this band's), then connect.") \
                        .classes("text-xs text-grey-7 break-all")

        await source_card()

        async def connect(text: str) -> None:
            await library_admin.connect_drive(actor, text)
            ui.notify("Connected. The first sync starts now.", type="positive")
            await sync_now()
            source_card.refresh()

        def consent(text: str) -> None:
            ui.navigate.to(f"/auth/drive/start?folder={quote(parse_folder_id(text))}")

        def prove(text: str) -> None:
            ui.navigate.to(f"/auth/drive/verify?folder={quote(parse_folder_id(text))}")

        async def verify_by_file() -> None:
            await library_admin.verify_drive(actor)
            ui.notify("Verified: the folder is the band's.", type="positive")
            source_card.refresh()

        with ui.card().classes("w-full").props("flat bordered"):
            status = ui.label(_summary(progress)).classes("text-sm")
            bar = ui.linear_progress(value=0, show_value=False).props("rounded size=8px")
            bar.visible = progress.running
            sync_button = ui.button("Sync now", icon="sync").props("unelevated")

        files_view = FilesView(actor)
        await files_view.build()

        def on_event(event: Event) -> None:
            sync = event.payload.get("sync")
            if not isinstance(sync, dict):
                return
            p = SyncProgress(**{k: v for k, v in sync.items() if k in SyncProgress.__dataclass_fields__})
            status.text = _summary(p)
            bar.visible = p.running
            bar.value = (p.done / p.total) if p.total else 0
            sync_button.enabled = not p.running
            if not p.running:
                background_tasks.create(files_view.show(), name="refresh library files")

        listen(actor.band_id, "library", on_event)

        async def sync_now() -> None:
            sync_button.enabled = False
            await library_admin.sync_now(actor)

        sync_button.on_click(sync_now)
        sync_button.enabled = not progress.running
    return None
