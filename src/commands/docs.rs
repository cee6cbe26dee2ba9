//! `amhash completions SHELL` and `amhash man`: generated from the clap definition, so they
//! never disagree with `--help`.

use crate::failure::Failure;
use crate::output::Report;

pub fn completions(shell: clap_complete::Shell) -> Result<Report, Failure> {
    let mut command = crate::cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "amhash", &mut script);
    let script = String::from_utf8(script)
        .map_err(|_| Failure::operational("the completion script is not UTF-8"))?;
    Ok(Report::with_value(script.trim_end().to_string()))
}

pub fn man() -> Result<Report, Failure> {
    let page = render_man()
        .map_err(|e| Failure::operational(format!("cannot render the man page: {e}")))?;
    let page =
        String::from_utf8(page).map_err(|_| Failure::operational("the man page is not UTF-8"))?;
    Ok(Report::with_value(page.trim_end().to_string()))
}

/// One page: the top-level sections, then each subcommand's synopsis, description and
/// options, so `man amhash` documents every flag.
fn render_man() -> std::io::Result<Vec<u8>> {
    let command = crate::cli::command();
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut page)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name().to_string();
        let sub_page = clap_mangen::Man::new(sub.clone().bin_name(format!("amhash {name}")));
        page.extend_from_slice(format!(".SH \"AMHASH {}\"\n", name.to_uppercase()).as_bytes());
        sub_page.render_synopsis_section(&mut page)?;
        sub_page.render_description_section(&mut page)?;
        sub_page.render_options_section(&mut page)?;
    }
    Ok(page)
}
