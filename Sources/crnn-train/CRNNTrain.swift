import ArgumentParser

@main
struct CRNNTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crnn-train",
        abstract: "Extract MFCC features and train CRNN music-genre classifiers (float32, desktop).",
        subcommands: [])
}
