//! `schooltas school import` and `schooltas school offers`: the roster from the
//! administration's CSV exports, and letters home (offers by value as QR codes, the PINs in a
//! separate file). Both work on the SQLite files directly, so they run beside `schooltas serve`.

use std::io::Write;
use std::path::Path;

use schooltas_server::school::{LetterOffer, OfferSelection, SchoolServer, open_roster};

use crate::args::{SchoolImportArgs, SchoolOffersArgs};
use crate::error::{CliError, Result};
use crate::files::{self, Mode};

fn failed<E: std::error::Error + Send + Sync + 'static>(action: &'static str) -> impl FnOnce(E) -> CliError {
    move |error| CliError::School { action, source: Box::new(error) }
}

fn read_bytes(path: &Path, what: &'static str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| CliError::read(what, path, e))
}

/// `schooltas school import`
pub(super) fn import(args: &SchoolImportArgs, out: &mut dyn Write) -> Result<()> {
    let config = super::serve::config(Some(&args.config))?;
    let pupils = args.pupils.as_deref().map(|path| read_bytes(path, "pupils file")).transpose()?;
    let guardians = args.guardians.as_deref().map(|path| read_bytes(path, "guardians file")).transpose()?;
    let roster = open_roster(&config).map_err(failed("opening the roster"))?;
    let report = roster.import(pupils.as_deref(), guardians.as_deref()).map_err(failed("importing"))?;
    writeln!(out, "imported pupils={} guardians={}", report.pupils, report.guardians)?;
    Ok(())
}

/// A subject reference as a file name: `/` and anything but letters, digits, `@`, `.`, `-`
/// and `_` become `_`.
fn file_stem(subject_ref: &str) -> String {
    subject_ref
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '-' | '_') { c } else { '_' })
        .collect()
}

/// `schooltas school offers`
pub(super) fn offers(args: &SchoolOffersArgs, out: &mut dyn Write) -> Result<()> {
    let config = super::serve::config(args.school.config.as_deref())?;
    let secrets = super::serve::secrets(&config, &args.school)?;
    let server = SchoolServer::open(config, secrets, None).map_err(failed("opening the school"))?;
    let selection = OfferSelection { group: args.group.clone(), pupil: args.pupil.clone() };
    let now = files::now()?;
    std::fs::create_dir_all(&args.out).map_err(|e| CliError::write("offers directory", &args.out, e))?;
    let pins_path = args.out.join("pins.csv");
    if pins_path.exists() {
        return Err(CliError::AlreadyExists { what: "PIN file", path: crate::error::show(&pins_path) });
    }
    let offers = server.letter_offers(&selection, now).map_err(failed("making offers"))?;
    let mut pins = zeroize::Zeroizing::new(String::from("ref,pin\n"));
    for LetterOffer { subject_ref, uri, pin } in &offers {
        let stem = file_stem(subject_ref);
        let svg = schooltas_server::qr::svg(uri).map_err(failed("drawing a QR code"))?;
        files::write_new(&args.out.join(format!("{stem}.svg")), svg.as_bytes(), false, Mode::Private, "QR code")?;
        let png = schooltas_server::qr::png(uri).map_err(failed("drawing a QR code"))?;
        files::write_new(&args.out.join(format!("{stem}.png")), &png, false, Mode::Private, "QR code")?;
        pins.push_str(subject_ref);
        pins.push(',');
        pins.push_str(pin.as_ref().map_or("", |pin| pin.as_str()));
        pins.push('\n');
    }
    files::write_new(&pins_path, pins.as_bytes(), false, Mode::Private, "PIN file")?;
    writeln!(out, "offers={} pins={}", offers.len(), pins_path.display())?;
    Ok(())
}
