// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

interface IModelRegistry {
    function modelExists(uint256 modelId) external view returns (bool);
}

/// @title Contribution registry
/// @notice Contributors claim work on a model (data, compute, training, evaluation, code); active validators,
///         appointed by the owner, accept or reject each claim exactly once with a score in basis points.
///         Self-validation is deliberately allowed: detecting it is the analytics' job, not the contract's.
contract ContributionRegistry is Ownable {
    enum Kind {
        Data,
        Compute,
        Training,
        Evaluation,
        Code
    }

    enum Status {
        None,
        Pending,
        Accepted,
        Rejected
    }

    struct Contribution {
        uint256 modelId;
        address contributor;
        Kind kind;
        Status status;
        uint16 score;
        address validator;
        uint256 units;
        bytes32 evidenceHash;
    }

    event ValidatorUpdated(address indexed validator, bool active);
    event ContributionSubmitted(
        uint256 indexed contributionId,
        uint256 indexed modelId,
        address indexed contributor,
        uint8 kind,
        uint256 units,
        bytes32 evidenceHash
    );
    event ContributionValidated(
        uint256 indexed contributionId, address indexed validator, bool accepted, uint16 score, bytes32 reportHash
    );

    error UnknownModel(uint256 modelId);
    error InvalidKind(uint8 kind);
    error ZeroUnits();
    error NotValidator(address caller);
    error UnknownContribution(uint256 contributionId);
    error AlreadyValidated(uint256 contributionId);
    error ScoreOutOfRange(uint16 score);

    uint16 public constant MAX_SCORE = 10_000;

    IModelRegistry public immutable modelRegistry;
    /// Number of contributions; ids run 1..contributionCount.
    uint256 public contributionCount;
    mapping(address => bool) public isValidator;
    mapping(uint256 contributionId => Contribution) private _contributions;

    constructor(IModelRegistry modelRegistry_, address initialOwner) Ownable(initialOwner) {
        modelRegistry = modelRegistry_;
    }

    function setValidator(address validator, bool active) external onlyOwner {
        isValidator[validator] = active;
        emit ValidatorUpdated(validator, active);
    }

    function submitContribution(uint256 modelId, uint8 kind, uint256 units, bytes32 evidenceHash)
        external
        returns (uint256 contributionId)
    {
        if (!modelRegistry.modelExists(modelId)) revert UnknownModel(modelId);
        if (kind > uint8(type(Kind).max)) revert InvalidKind(kind);
        if (units == 0) revert ZeroUnits();
        contributionId = ++contributionCount;
        Contribution storage c = _contributions[contributionId];
        c.modelId = modelId;
        c.contributor = msg.sender;
        c.kind = Kind(kind);
        c.status = Status.Pending;
        c.units = units;
        c.evidenceHash = evidenceHash;
        emit ContributionSubmitted(contributionId, modelId, msg.sender, kind, units, evidenceHash);
    }

    function validate(uint256 contributionId, bool accepted, uint16 score, bytes32 reportHash) external {
        if (!isValidator[msg.sender]) revert NotValidator(msg.sender);
        if (score > MAX_SCORE) revert ScoreOutOfRange(score);
        Contribution storage c = _contributions[contributionId];
        if (c.status == Status.None) revert UnknownContribution(contributionId);
        if (c.status != Status.Pending) revert AlreadyValidated(contributionId);
        c.status = accepted ? Status.Accepted : Status.Rejected;
        c.score = score;
        c.validator = msg.sender;
        emit ContributionValidated(contributionId, msg.sender, accepted, score, reportHash);
    }

    function getContribution(uint256 contributionId) external view returns (Contribution memory) {
        Contribution memory c = _contributions[contributionId];
        if (c.status == Status.None) revert UnknownContribution(contributionId);
        return c;
    }
}
