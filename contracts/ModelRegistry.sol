// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Model registry
/// @notice Models and their version lineage. Anyone registers a model and becomes its owner; only the owner
///         publishes versions. Each version may name a parent version of the same model (0 = none), which is
///         what lets the indexer rebuild the lineage tree from events alone.
contract ModelRegistry {
    struct Model {
        address owner;
        uint64 versionCount;
        string name;
        string metadataURI;
    }

    struct Version {
        address publisher;
        uint256 parentVersionId;
        bytes32 weightsHash;
        string metadataURI;
    }

    event ModelRegistered(uint256 indexed modelId, address indexed owner, string name, string metadataURI);
    event ModelVersionPublished(
        uint256 indexed modelId,
        uint256 indexed versionId,
        address indexed publisher,
        uint256 parentVersionId,
        bytes32 weightsHash,
        string metadataURI
    );
    event ModelOwnershipTransferred(uint256 indexed modelId, address indexed previousOwner, address indexed newOwner);

    error UnknownModel(uint256 modelId);
    error NotModelOwner(uint256 modelId, address caller);
    error UnknownParentVersion(uint256 modelId, uint256 parentVersionId);
    error ZeroAddressOwner();

    /// Number of registered models; ids run 1..modelCount.
    uint256 public modelCount;
    mapping(uint256 modelId => Model) private _models;
    mapping(uint256 modelId => mapping(uint256 versionId => Version)) private _versions;

    function registerModel(string calldata name, string calldata metadataURI) external returns (uint256 modelId) {
        modelId = ++modelCount;
        Model storage m = _models[modelId];
        m.owner = msg.sender;
        m.name = name;
        m.metadataURI = metadataURI;
        emit ModelRegistered(modelId, msg.sender, name, metadataURI);
    }

    function publishVersion(uint256 modelId, uint256 parentVersionId, bytes32 weightsHash, string calldata metadataURI)
        external
        returns (uint256 versionId)
    {
        Model storage m = _requireOwner(modelId);
        if (parentVersionId > m.versionCount) revert UnknownParentVersion(modelId, parentVersionId);
        versionId = ++m.versionCount;
        _versions[modelId][versionId] = Version(msg.sender, parentVersionId, weightsHash, metadataURI);
        emit ModelVersionPublished(modelId, versionId, msg.sender, parentVersionId, weightsHash, metadataURI);
    }

    function transferModelOwnership(uint256 modelId, address newOwner) external {
        Model storage m = _requireOwner(modelId);
        if (newOwner == address(0)) revert ZeroAddressOwner();
        address previous = m.owner;
        m.owner = newOwner;
        emit ModelOwnershipTransferred(modelId, previous, newOwner);
    }

    // ---- views ----

    function modelExists(uint256 modelId) public view returns (bool) {
        return modelId != 0 && modelId <= modelCount;
    }

    function ownerOf(uint256 modelId) external view returns (address) {
        if (!modelExists(modelId)) revert UnknownModel(modelId);
        return _models[modelId].owner;
    }

    function getModel(uint256 modelId)
        external
        view
        returns (address owner, string memory name, string memory metadataURI, uint256 versionCount)
    {
        if (!modelExists(modelId)) revert UnknownModel(modelId);
        Model storage m = _models[modelId];
        return (m.owner, m.name, m.metadataURI, m.versionCount);
    }

    function getVersion(uint256 modelId, uint256 versionId)
        external
        view
        returns (address publisher, uint256 parentVersionId, bytes32 weightsHash, string memory metadataURI)
    {
        if (!modelExists(modelId) || versionId == 0 || versionId > _models[modelId].versionCount) {
            revert UnknownParentVersion(modelId, versionId);
        }
        Version storage v = _versions[modelId][versionId];
        return (v.publisher, v.parentVersionId, v.weightsHash, v.metadataURI);
    }

    function _requireOwner(uint256 modelId) private view returns (Model storage m) {
        if (!modelExists(modelId)) revert UnknownModel(modelId);
        m = _models[modelId];
        if (m.owner != msg.sender) revert NotModelOwner(modelId, msg.sender);
    }
}
